package catalog

import (
	"maps"
	"slices"
	"strings"
)

// Lifecycle is the stage a component is in.
type Lifecycle string

// The lifecycles a component may be in.
const (
	LifecycleExperimental Lifecycle = "experimental"
	LifecycleProduction   Lifecycle = "production"
	LifecycleDeprecated   Lifecycle = "deprecated"
)

// Valid reports whether l is one of the defined lifecycles.
func (l Lifecycle) Valid() bool {
	return l == LifecycleExperimental || l == LifecycleProduction || l == LifecycleDeprecated
}

// Common component types. Any DNS label is accepted as a type.
const (
	TypeService = "service"
	TypeWebsite = "website"
	TypeWorker  = "worker"
	TypeLibrary = "library"
)

// Tier bounds: 1 is the most critical, 4 the least.
const (
	MinTier = 1
	MaxTier = 4
)

// Links are a component's URLs. Each is optional and, when set, must be an absolute http
// or https URL without credentials.
type Links struct {
	Repository string `json:"repository,omitempty"` // source code
	Docs       string `json:"docs,omitempty"`       // documentation for users
	Runbook    string `json:"runbook,omitempty"`    // what to do when it breaks
	OnCall     string `json:"onCall,omitempty"`     // who to page: a schedule or rota
	Dashboard  string `json:"dashboard,omitempty"`  // its dashboard
	APISpec    string `json:"apiSpec,omitempty"`    // its API description (OpenAPI, proto...)
}

// Component is a unit of software the catalog knows about: what it is, who owns it, how
// critical it is and where to read more. Its JSON form is the body of
// PUT /api/v1/components/{name}.
type Component struct {
	// Name is the component's name, a DNS label (see [IsDNSLabel]). Required.
	Name string `json:"name"`
	// Owner is the team that owns the component, a DNS label. Required. Only this team's
	// token (or the admin token) may change the component and its instances.
	Owner string `json:"owner"`
	// Namespace groups components, such as a product or domain. Optional DNS label.
	Namespace string `json:"namespace,omitempty"`
	// Description says in a sentence what the component does; at most 2048 characters.
	Description string `json:"description,omitempty"`
	// Type is the kind of component, a DNS label such as [TypeService]. Required;
	// [Component.WithDefaults] sets "service".
	Type string `json:"type"`
	// Tier is how critical the component is, [MinTier] (most) to [MaxTier] (least).
	// Required; [Component.WithDefaults] sets 3.
	Tier int `json:"tier"`
	// Lifecycle is experimental, production or deprecated. Required;
	// [Component.WithDefaults] sets experimental.
	Lifecycle Lifecycle `json:"lifecycle"`
	// Links point to where people learn more.
	Links Links `json:"links"`
	// DependsOn names the components this one calls: distinct DNS labels, not itself.
	DependsOn []string `json:"dependsOn,omitempty"`
	// ProvidesAPIs names the APIs this component offers: distinct, 1-63 characters of
	// letters, digits, '-', '_' and '.'.
	ProvidesAPIs []string `json:"providesApis,omitempty"`
	// APIs describe the provided APIs that publish a contract: each one's kind and the
	// digest and size of its definition (served by the instances at /apis/{name} on
	// their admin address). Each name is also in ProvidesAPIs; at most [MaxListItems].
	APIs []API `json:"apis,omitempty"`
	// ConsumesAPIs names the APIs of other components this one declares it calls, with
	// the rule of ProvidesAPIs.
	ConsumesAPIs []string `json:"consumesApis,omitempty"`
	// Uses lists what the component calls, declared (ConsumesAPIs) and observed (the
	// clients the running service built): which API of which component. At most
	// [MaxListItems], each (api, provider) pair once.
	Uses []APIUse `json:"uses,omitempty"`
	// Labels are free key/value pairs for filtering, with Kubernetes label rules: a key is
	// an optional DNS subdomain prefix and '/' then a name of 1-63 characters of letters,
	// digits, '-', '_' and '.'; a value is empty or such a name.
	Labels map[string]string `json:"labels,omitempty"`
}

// WithDefaults returns a copy of c with the optional fields a service registration may
// leave out filled in: Type "service", Tier 3, Lifecycle experimental.
func (c Component) WithDefaults() Component {
	if c.Type == "" {
		c.Type = TypeService
	}
	if c.Tier == 0 {
		c.Tier = 3
	}
	if c.Lifecycle == "" {
		c.Lifecycle = LifecycleExperimental
	}
	return c
}

// Validate returns nil, or a [*ValidationError] listing every problem of c.
func (c *Component) Validate() error {
	var p problems
	checkDNSLabel(&p, "name", c.Name)
	checkDNSLabel(&p, "owner", c.Owner)
	if c.Namespace != "" {
		checkDNSLabel(&p, "namespace", c.Namespace)
	}
	checkText(&p, "description", c.Description, MaxDescriptionLength)
	checkDNSLabel(&p, "type", c.Type)
	if c.Tier < MinTier || c.Tier > MaxTier {
		p.add("tier", "must be between %d (most critical) and %d, got %d", MinTier, MaxTier, c.Tier)
	}
	if !c.Lifecycle.Valid() {
		p.add("lifecycle", "must be one of experimental, production, deprecated, got %q", Clip(string(c.Lifecycle)))
	}
	checkHTTPURL(&p, "links.repository", c.Links.Repository)
	checkHTTPURL(&p, "links.docs", c.Links.Docs)
	checkHTTPURL(&p, "links.runbook", c.Links.Runbook)
	checkHTTPURL(&p, "links.onCall", c.Links.OnCall)
	checkHTTPURL(&p, "links.dashboard", c.Links.Dashboard)
	checkHTTPURL(&p, "links.apiSpec", c.Links.APISpec)
	checkList(&p, "dependsOn", c.DependsOn, func(p *problems, f, s string) {
		checkDNSLabel(p, f, s)
		if s == c.Name && s != "" {
			p.add(f, "a component cannot depend on itself")
		}
	})
	checkList(&p, "providesApis", c.ProvidesAPIs, func(p *problems, f, s string) {
		if !isLabelName(s) {
			p.add(f, "must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got %q", Clip(s))
		}
	})
	checkList(&p, "consumesApis", c.ConsumesAPIs, func(p *problems, f, s string) {
		if !IsAPIName(s) {
			p.add(f, "must be "+APINameRule+", got %q", Clip(s))
		}
	})
	c.checkAPIs(&p)
	checkLabels(&p, "labels", c.Labels, labelValueRule)
	return p.err()
}

// checkAPIs checks APIs and Uses.
func (c *Component) checkAPIs(p *problems) {
	if len(c.APIs) > MaxListItems {
		p.add("apis", "at most %d items, got %d", MaxListItems, len(c.APIs))
	} else {
		seen := make(map[string]int, len(c.APIs))
		for i, a := range c.APIs {
			f := index("apis", i)
			if j, dup := seen[a.Name]; dup {
				p.add(f+".name", "duplicate of %s", index("apis", j))
				continue
			}
			seen[a.Name] = i
			checkAPI(p, f, a)
			if IsAPIName(a.Name) && !slices.Contains(c.ProvidesAPIs, a.Name) {
				p.add(f+".name", "%q must also be listed in providesApis", a.Name)
			}
		}
	}
	if len(c.Uses) > MaxListItems {
		p.add("uses", "at most %d items, got %d", MaxListItems, len(c.Uses))
		return
	}
	seen := make(map[APIUse]int, len(c.Uses))
	for i, u := range c.Uses {
		f := index("uses", i)
		key := APIUse{API: u.API, Provider: u.Provider}
		if j, dup := seen[key]; dup {
			p.add(f, "duplicate of %s (same api and provider)", index("uses", j))
			continue
		}
		seen[key] = i
		checkAPIUse(p, f, u, c.Name)
	}
}

// checkList checks each item of a list with rule, and that no item repeats.
func checkList(p *problems, field string, items []string, rule func(p *problems, field, s string)) {
	if len(items) > MaxListItems {
		p.add(field, "at most %d items, got %d", MaxListItems, len(items))
		return
	}
	seen := make(map[string]int, len(items))
	for i, s := range items {
		f := index(field, i)
		if j, dup := seen[s]; dup {
			p.add(f, "duplicate of %s", index(field, j))
			continue
		}
		seen[s] = i
		rule(p, f, s)
	}
}

// ComponentFilter selects components in a list. Every set field must match; the zero
// filter matches every component.
type ComponentFilter struct {
	// Owner, when set, matches components owned by this team.
	Owner string
	// Tier, when not 0, matches components of this tier.
	Tier int
	// Lifecycle, when set, matches components in this lifecycle.
	Lifecycle Lifecycle
	// Labels matches components having every one of these labels with this value.
	Labels map[string]string
	// Text, when set, matches components whose name or description contains it,
	// ignoring case.
	Text string
}

// Match reports whether c passes the filter.
func (f ComponentFilter) Match(c *Component) bool {
	if f.Owner != "" && c.Owner != f.Owner {
		return false
	}
	if f.Tier != 0 && c.Tier != f.Tier {
		return false
	}
	if f.Lifecycle != "" && c.Lifecycle != f.Lifecycle {
		return false
	}
	for k, v := range f.Labels {
		got, ok := c.Labels[k]
		if !ok || got != v {
			return false
		}
	}
	if f.Text != "" {
		t := strings.ToLower(f.Text)
		if !strings.Contains(strings.ToLower(c.Name), t) && !strings.Contains(strings.ToLower(c.Description), t) {
			return false
		}
	}
	return true
}

// Clone returns a copy of c that shares no slice or map with it, for a store that keeps
// components in memory and must not let a caller's later changes reach them.
func (c Component) Clone() Component {
	c.DependsOn = slices.Clone(c.DependsOn)
	c.ProvidesAPIs = slices.Clone(c.ProvidesAPIs)
	c.APIs = slices.Clone(c.APIs)
	c.ConsumesAPIs = slices.Clone(c.ConsumesAPIs)
	c.Uses = slices.Clone(c.Uses)
	c.Labels = maps.Clone(c.Labels)
	return c
}
