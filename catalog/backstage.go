package catalog

import (
	"bytes"
	"slices"
	"strings"
)

// ProvidedAPI is an API as the Backstage export shows it: an API entity (kind API) of
// its own, provided by one component.
type ProvidedAPI struct {
	// Name is the API's name, the entity's metadata.name.
	Name string
	// Provider is the component that provides it (the first by name when several list
	// it); its owner, lifecycle and namespace are the API's.
	Provider Component
	// Descriptor is the API's published contract, or nil when the component only
	// names it in providesApis.
	Descriptor *API
}

// ProvidedAPIs returns the APIs the components provide, one each, sorted by name. An
// API listed by several components is the first one's, by component name.
func ProvidedAPIs(cs []Component) []ProvidedAPI {
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b Component) int { return strings.Compare(a.Name, b.Name) })
	seen := map[string]bool{}
	var out []ProvidedAPI
	for _, c := range sorted {
		for _, name := range c.ProvidesAPIs {
			if seen[name] {
				continue
			}
			seen[name] = true
			p := ProvidedAPI{Name: name, Provider: c}
			for i := range c.APIs {
				if c.APIs[i].Name == name {
					a := c.APIs[i]
					p.Descriptor = &a
				}
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b ProvidedAPI) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// APITypeUnknown is the spec.type of an API entity whose component names the API
// without publishing its contract.
const APITypeUnknown = "unknown"

// ConsumedAPIs returns the APIs c calls: those it declares (ConsumesAPIs), then those
// its running instances were seen calling (Uses with an API), each once.
func (c *Component) ConsumedAPIs() []string {
	out := slices.Clone(c.ConsumesAPIs)
	for _, u := range c.Uses {
		if u.API != "" && !slices.Contains(out, u.API) {
			out = append(out, u.API)
		}
	}
	return out
}

// BackstageAPIYAML returns a as a Backstage API entity (kind API, apiVersion
// backstage.io/v1alpha1): spec.type is the API's kind (openapi, grpc, asyncapi, or
// [APITypeUnknown] without a contract), spec.owner, spec.lifecycle and spec.system
// (the Paved namespace) are its provider's, and spec.definition is definition, which
// must be text (YAML allows no other). The digest and version of the contract are the
// annotations paved.dev/api-digest and paved.dev/api-version, its provider
// paved.dev/provider.
func BackstageAPIYAML(a ProvidedAPI, definition string) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n")
	b.WriteString("  name: " + yamlString(a.Name) + "\n")
	b.WriteString("  description: " + yamlString("API "+a.Name+", provided by "+a.Provider.Name+".") + "\n")
	b.WriteString("  annotations:\n")
	b.WriteString("    \"paved.dev/provider\": " + yamlString(a.Provider.Name) + "\n")
	typ := APITypeUnknown
	if d := a.Descriptor; d != nil {
		typ = string(d.Kind)
		b.WriteString("    \"paved.dev/api-digest\": " + yamlString(d.Digest) + "\n")
		if d.Version != "" {
			b.WriteString("    \"paved.dev/api-version\": " + yamlString(d.Version) + "\n")
		}
	}
	b.WriteString("spec:\n")
	b.WriteString("  type: " + yamlString(typ) + "\n")
	b.WriteString("  lifecycle: " + yamlString(string(a.Provider.Lifecycle)) + "\n")
	b.WriteString("  owner: " + yamlString("group:"+a.Provider.Owner) + "\n")
	if a.Provider.Namespace != "" {
		b.WriteString("  system: " + yamlString(a.Provider.Namespace) + "\n")
	}
	b.WriteString("  definition: " + yamlString(definition) + "\n")
	return b.Bytes()
}

// BackstageLocationYAML returns a Backstage Location entity named name whose one
// target is target, a URL or a path relative to the location's own URL.
func BackstageLocationYAML(name, target string) []byte {
	return []byte("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n" +
		"  name: " + yamlString(name) + "\n" +
		"  description: \"Every component and API of the Paved catalog.\"\n" +
		"spec:\n  type: url\n  targets:\n    - " + yamlString(target) + "\n")
}
