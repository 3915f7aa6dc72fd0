package ui

import (
	"cmp"
	"slices"

	"github.com/paved-road/paved/catalog"
)

// eventFlow is an event API going from the component that publishes it to one that
// consumes it: the publisher provides the API (kind asyncapi), the consumer names it in
// its consumesApis or its uses. transport/messaging/natsjs names an event API after
// its subject, so publisher and consumer meet on the subject.
type eventFlow struct {
	API, Publisher, Consumer string
}

// eventFlows returns the event flows between components, sorted by publisher,
// consumer and API.
func eventFlows(components []catalog.Component) []eventFlow {
	publishers := map[string][]string{} // event API -> components publishing it
	for _, c := range components {
		for _, a := range c.APIs {
			if a.Kind == catalog.APIKindAsyncAPI {
				publishers[a.Name] = append(publishers[a.Name], c.Name)
			}
		}
	}
	var out []eventFlow
	for _, c := range components {
		for _, api := range consumedAPIs(c) {
			for _, p := range publishers[api] {
				if p != c.Name {
					out = append(out, eventFlow{API: api, Publisher: p, Consumer: c.Name})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b eventFlow) int {
		return cmp.Or(cmp.Compare(a.Publisher, b.Publisher), cmp.Compare(a.Consumer, b.Consumer), cmp.Compare(a.API, b.API))
	})
	return slices.Compact(out)
}

// consumedAPIs returns the APIs c declares or is seen to consume, each once.
func consumedAPIs(c catalog.Component) []string {
	out := slices.Clone(c.ConsumesAPIs)
	for _, u := range c.Uses {
		if u.API != "" && !slices.Contains(out, u.API) {
			out = append(out, u.API)
		}
	}
	return out
}

// eventLink is an event API on the component page, with the components at its other
// end.
type eventLink struct {
	API   string
	Peers []string // consumers of an API published, publishers of one consumed
}

// eventLinks returns the event APIs name publishes and consumes, with their consumers
// and publishers among flows.
func eventLinks(c catalog.Component, flows []eventFlow) (publishes, consumes []eventLink) {
	add := func(list []eventLink, api, peer string) []eventLink {
		i := slices.IndexFunc(list, func(l eventLink) bool { return l.API == api })
		if i < 0 {
			list = append(list, eventLink{API: api})
			i = len(list) - 1
		}
		if peer != "" && !slices.Contains(list[i].Peers, peer) {
			list[i].Peers = append(list[i].Peers, peer)
		}
		return list
	}
	for _, a := range c.APIs {
		if a.Kind == catalog.APIKindAsyncAPI {
			publishes = add(publishes, a.Name, "")
		}
	}
	for _, f := range flows {
		switch c.Name {
		case f.Publisher:
			publishes = add(publishes, f.API, f.Consumer)
		case f.Consumer:
			consumes = add(consumes, f.API, f.Publisher)
		}
	}
	return publishes, consumes
}
