package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// CompassIDs map catalog names to the ids Atlassian Compass gives the same things, for
// the compass.yml export and the push to Compass. The zero value maps nothing.
type CompassIDs struct {
	// Teams maps a team (a component's owner) to its Compass team id, the ownerId of its
	// components: an ARI such as "ari:cloud:identity::team/<uuid>".
	Teams map[string]string
	// Components maps a component to its Compass component id (an ARI such as
	// "ari:cloud:compass:<cloud id>:component/<uuid>/<uuid>"): its compass.yml's id,
	// so that Compass updates the component rather than creating another, and the
	// target of the DEPENDS_ON relationships of the components that depend on it.
	Components map[string]string
}

// isARI reports whether s looks like an Atlassian resource identifier with the given
// prefix: printable ASCII without spaces or quotes, at most 255 bytes.
func isARI(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\'' || c == '\\' {
			return false
		}
	}
	return true
}

// CompassTeamPrefix and CompassComponentPrefix start the ids [CompassIDs] accepts.
const (
	CompassTeamPrefix      = "ari:cloud:"
	CompassComponentPrefix = "ari:cloud:compass:"
)

// Validate returns nil, or a [*ValidationError] listing every bad entry: each key must
// be a DNS label, each team id an ARI (starting with [CompassTeamPrefix]) and each
// component id a Compass component ARI (starting with [CompassComponentPrefix]).
func (m CompassIDs) Validate() error {
	var p problems
	check := func(field string, ids map[string]string, prefix string) {
		for _, k := range sortedLabelKeys(ids) {
			f := field + "[" + k + "]"
			if !IsDNSLabel(k) {
				p.add(f, "the name must be a DNS label, got %q", Clip(k))
			}
			if !isARI(ids[k], prefix) {
				p.add(f, "must be an ARI starting with %q, without spaces or quotes, at most 255 bytes, got %q", prefix, Clip(ids[k]))
			}
		}
	}
	check("teams", m.Teams, CompassTeamPrefix)
	check("components", m.Components, CompassComponentPrefix)
	return p.err()
}

// ParseCompassIDs parses "name=id" pairs (the items of CATALOG_COMPASS_TEAMS or
// CATALOG_COMPASS_COMPONENTS) into a map, listing every bad item at once: each must
// have one '=' and a name that appears once.
func ParseCompassIDs(items []string) (map[string]string, error) {
	out := map[string]string{}
	var errs []string
	for i, it := range items {
		k, v, ok := strings.Cut(strings.TrimSpace(it), "=")
		switch {
		case !ok || k == "" || v == "":
			errs = append(errs, fmt.Sprintf("item %d %q: must be name=id", i+1, Clip(it)))
		case out[k] != "":
			errs = append(errs, fmt.Sprintf("item %d: %q is mapped twice", i+1, Clip(k)))
		default:
			out[k] = v
		}
	}
	if errs != nil {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// CompassYAMLWith returns c as an Atlassian Compass config-as-code file (compass.yml,
// configVersion 1) with the ids ids knows:
//
//   - id: the component's Compass id, when mapped; without it Compass creates the
//     component on import.
//   - ownerId: the owner team's Compass id, when mapped, else null. The owner is also
//     the label owner:<team>.
//   - relationships.DEPENDS_ON: the Compass ids of the dependencies that are mapped;
//     each dependency is also the label depends-on:<name>, so that none is lost.
//
// Labels are "key:value" (or "key"), lower-cased; Compass allows 40 characters, longer
// ones are left out. Compass reads one component per file: the catalog's export of
// every component is an archive of one compass.yml per component.
func CompassYAMLWith(c Component, ids CompassIDs) []byte {
	var b strings.Builder
	b.WriteString("configVersion: 1\n")
	b.WriteString("name: " + yamlString(c.Name) + "\n")
	if id := ids.Components[c.Name]; id != "" {
		b.WriteString("id: " + yamlString(id) + "\n")
	}
	if c.Description != "" {
		b.WriteString("description: " + yamlString(c.Description) + "\n")
	}
	b.WriteString("typeId: " + compassType(c.Type) + "\n")
	if id := ids.Teams[c.Owner]; id != "" {
		b.WriteString("ownerId: " + yamlString(id) + "\n")
	} else {
		b.WriteString("ownerId: null\n")
	}
	b.WriteString("fields:\n")
	b.WriteString(fmt.Sprintf("  tier: %d\n", c.Tier))
	if l, ok := compassLifecycle(c.Lifecycle); ok {
		b.WriteString("  lifecycle: " + yamlString(l) + "\n")
	}
	if ls := links(&c); len(ls) > 0 {
		b.WriteString("links:\n")
		for _, l := range ls {
			b.WriteString("  - name: " + yamlString(l.title) + "\n")
			b.WriteString("    type: " + l.compassType + "\n")
			b.WriteString("    url: " + yamlString(l.url) + "\n")
		}
	} else {
		b.WriteString("links: []\n")
	}
	b.WriteString("labels:\n")
	for _, l := range compassLabels(&c) {
		b.WriteString("  - " + yamlString(l) + "\n")
	}
	if deps := compassDependsOn(&c, ids); len(deps) > 0 {
		b.WriteString("relationships:\n  DEPENDS_ON:\n")
		for _, id := range deps {
			b.WriteString("    - " + yamlString(id) + "\n")
		}
	} else {
		b.WriteString("relationships: {}\n")
	}
	return []byte(b.String())
}

// compassLabels returns the Compass labels of c: owner:<team>, depends-on:<name> for
// each dependency, then its labels, lower-cased, those longer than 40 characters left
// out.
func compassLabels(c *Component) []string {
	labels := []string{"owner:" + c.Owner}
	for _, d := range c.DependsOn {
		labels = append(labels, "depends-on:"+d)
	}
	for _, k := range sortedLabelKeys(c.Labels) {
		l := k
		if v := c.Labels[k]; v != "" {
			l += ":" + v
		}
		labels = append(labels, l)
	}
	out := labels[:0]
	for _, l := range labels {
		if l = strings.ToLower(l); len(l) <= 40 {
			out = append(out, l)
		}
	}
	return out
}

// compassDependsOn returns the Compass ids of c's mapped dependencies, sorted.
func compassDependsOn(c *Component, ids CompassIDs) []string {
	var out []string
	for _, d := range c.DependsOn {
		if id := ids.Components[d]; id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// CompassTypeID returns the Compass typeId of a component type: SERVICE for service
// and worker, WEBSITE, LIBRARY, APPLICATION, else OTHER.
func CompassTypeID(t string) string { return compassType(t) }

// CompassLifecycle returns the Compass lifecycle field value of l (Pre-release, Active,
// Deprecated).
func CompassLifecycle(l Lifecycle) (string, bool) { return compassLifecycle(l) }

// CompassLabels returns the labels the Compass export and push give c.
func CompassLabels(c *Component) []string { return compassLabels(c) }

// CompassLink is a link of a component as Compass types it.
type CompassLink struct {
	Name string `json:"name"`
	Type string `json:"type"`
	URL  string `json:"url"`
}

// CompassLinks returns the links of c as Compass types them.
func CompassLinks(c *Component) []CompassLink {
	var out []CompassLink
	for _, l := range links(c) {
		out = append(out, CompassLink{Name: l.title, Type: l.compassType, URL: l.url})
	}
	return out
}
