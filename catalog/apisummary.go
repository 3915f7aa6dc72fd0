package catalog

import (
	"cmp"
	"maps"
	"slices"
)

// APISummary is what the catalog knows of one API: who provides it, who consumes it,
// and its stored versions. It is the body of GET /api/v1/apis/{name}, and the items
// of GET /api/v1/apis (without Versions).
type APISummary struct {
	// Name names the API.
	Name string `json:"name"`
	// Kind is the kind of its latest stored version, else the kind a provider
	// registered; empty for an API only declared by name.
	Kind APIKind `json:"kind,omitempty"`
	// Providers are the components that list the API in providesApis (or apis),
	// sorted.
	Providers []string `json:"providers"`
	// Consumers are the components that call it, declared or observed, sorted by
	// component.
	Consumers []APIConsumer `json:"consumers"`
	// Latest is the latest stored version; nil when none is stored (the API is
	// declared by name only, or its definition was not fetched yet).
	Latest *APIVersion `json:"latest,omitempty"`
	// VersionCount is the number of stored versions.
	VersionCount int `json:"versionCount"`
	// Versions are the stored versions, newest first; only in GET /api/v1/apis/{name}.
	Versions []APIVersion `json:"versions,omitempty"`
}

// APIConsumer is a component that calls an API.
type APIConsumer struct {
	// Component names the consumer.
	Component string `json:"component"`
	// Declared is true when the component lists the API in consumesApis.
	Declared bool `json:"declared"`
	// Observed is true when a client of a running instance of the component calls it.
	Observed bool `json:"observed"`
}

// Breaking reports whether the latest version of the API breaks the one before it.
func (s APISummary) Breaking() bool { return s.Latest != nil && len(s.Latest.Breaking) > 0 }

// SummarizeAPIs returns, for every API named by a component (provided or consumed) or
// stored, what the catalog knows of it, sorted by name: providers and consumers from
// components, versions (oldest first, as the store lists them, with the API's versions
// together) from versions. Versions is filled in newest first.
func SummarizeAPIs(components []Component, versions []APIVersion) []APISummary {
	byName := map[string]*APISummary{}
	get := func(name string) *APISummary {
		s, ok := byName[name]
		if !ok {
			s = &APISummary{Name: name, Providers: []string{}, Consumers: []APIConsumer{}}
			byName[name] = s
		}
		return s
	}
	consumer := func(s *APISummary, comp string) *APIConsumer {
		for i := range s.Consumers {
			if s.Consumers[i].Component == comp {
				return &s.Consumers[i]
			}
		}
		s.Consumers = append(s.Consumers, APIConsumer{Component: comp})
		return &s.Consumers[len(s.Consumers)-1]
	}
	for _, c := range components {
		provides := slices.Clone(c.ProvidesAPIs)
		for _, a := range c.APIs {
			provides = append(provides, a.Name)
			if s := get(a.Name); s.Kind == "" {
				s.Kind = a.Kind
			}
		}
		for _, name := range provides {
			if s := get(name); !slices.Contains(s.Providers, c.Name) {
				s.Providers = append(s.Providers, c.Name)
			}
		}
		for _, name := range c.ConsumesAPIs {
			consumer(get(name), c.Name).Declared = true
		}
		for _, u := range c.Uses {
			if u.API == "" {
				continue
			}
			k := consumer(get(u.API), c.Name)
			k.Declared = k.Declared || u.Declared
			k.Observed = k.Observed || u.Observed
		}
	}
	for _, v := range versions {
		s := get(v.Name)
		s.Versions = append(s.Versions, v)
	}
	out := make([]APISummary, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		s := byName[name]
		slices.Sort(s.Providers)
		slices.SortFunc(s.Consumers, func(a, b APIConsumer) int { return cmp.Compare(a.Component, b.Component) })
		slices.Reverse(s.Versions)
		s.VersionCount = len(s.Versions)
		if len(s.Versions) > 0 {
			latest := s.Versions[0]
			s.Latest = &latest
			s.Kind = latest.Kind
		}
		out = append(out, *s)
	}
	return out
}
