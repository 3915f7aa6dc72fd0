// Package ui is the catalog's web UI: server-rendered HTML pages and SVG dependency graphs
// over a [store.Store], with no JavaScript and no external assets.
//
// Routes (Go 1.22 ServeMux patterns), all GET (and HEAD):
//
//	/                                 components table; filters ?owner= ?tier= ?lifecycle= ?label=k=v (repeatable) ?q=text
//	/components/{name}                one component: metadata, links, instances, dependencies both ways, scorecards
//	/components/{name}/graph.svg      the component's neighbourhood: what it depends on and what depends on it
//	/graph                            the whole fleet's dependency graph, a page embedding /graph.svg
//	/graph.svg                        the whole fleet's dependency graph
//	/static/style.css                 the one stylesheet, embedded in the binary
//
// Mount a [Handler] at "/" beside the REST API, which owns "/api/":
//
//	mux := http.NewServeMux()
//	api := server.New(st, server.Options{...})
//	mux.Handle("/api/", api)
//	h, err := ui.New(st, ui.Options{Open: api.OpenMode(), Logger: logger})
//	...
//	mux.Handle("/", h)
//
// The UI only reads. It is open to anyone who reaches it, so do not mount it when the
// catalog's reads need a token.
//
// # Safety
//
// Every value from the store is escaped: html/template escapes pages by context and the
// SVG is written with encoding/xml escaping. A link is rendered as a link only when it is
// an absolute http or https URL. Each response carries a strict Content-Security-Policy
// (default-src 'none'; style-src 'self'; img-src 'self'; no scripts at all) and
// X-Content-Type-Options: nosniff. An unknown component is a 404 page; a store error is a
// 500 page that says nothing of the cause, which is logged.
//
// # Graphs
//
// Nodes are components (and, dashed, names a component depends on that the catalog does
// not know), filled by health: green when every instance is passing, amber when some are
// not, red when none is healthy, grey when none runs. The outline is the score's colour
// (green at 90 and above, amber at 70, red below, grey without a scorecard) and the score
// is written under the name. An edge with an arrowhead goes from a component to each
// component it depends on. The layout is deterministic: layers by longest path (cycles are
// broken at the edges a depth-first walk in name order finds going back), then nodes
// ordered within layers by the barycentre of their neighbours.
//
// A Handler is safe for concurrent use. Create one with [New]; the zero Handler is not
// usable. The zero [Options] is valid: no banner, logs discarded, the system clock.
package ui
