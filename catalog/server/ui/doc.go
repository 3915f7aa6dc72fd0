// Package ui is the catalog's web UI: server-rendered HTML pages, SVG dependency graphs and
// charts over a [store.Store], with no external assets and no JavaScript build: two small
// embedded scripts add live updates and table sorting, and every page works without them.
//
// Routes (Go 1.22 ServeMux patterns), all GET (and HEAD):
//
//	/                                 components table; filters ?owner= ?tier= ?lifecycle= ?label=k=v (repeatable) ?q=text ?failing=rule
//	/components/{name}                one component: the incident view, metadata, links, instances, deployments, dependencies both ways, scorecards
//	/components/{name}/graph.svg      the component's neighbourhood: what it depends on and what depends on it
//	/components/{name}/deployments.svg  its deployment timeline, by environment
//	/components/{name}/dora.svg       DORA's keys week by week
//	/components/{name}/score.svg      its score history
//	/teams                            every team: components, score, DORA's keys
//	/teams/{team}                     one team: contact, DORA's keys and charts, components, failing rules with their fix
//	/teams/{team}/dora.svg, /teams/{team}/deployments.svg  the team's charts
//	/scorecards                       every rule with title, weight and fix, and who passes and fails it; ?failing=rule
//	/events                           server-sent events: "change" when the fleet's instances or the catalog change (live.js)
//	/graph                            the whole fleet's dependency graph, a page embedding /graph.svg
//	/graph.svg                        the whole fleet's dependency graph
//	/static/style.css, /static/portal.css, /static/live.js, /static/sort.js  embedded assets
//
// Mount a [Handler] at "/" beside the REST API, which owns "/api/":
//
//	mux := http.NewServeMux()
//	api := server.New(st, server.Options{...})
//	mux.Handle("/api/", api)
//	h, err := ui.New(api.Store(), ui.Options{Open: api.OpenMode(), Logger: logger, Insights: api})
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
// (default-src 'none'; style-src, img-src, script-src and connect-src 'self': the UI's own
// files only, nothing inline) and X-Content-Type-Options: nosniff. An unknown component is a 404 page; a store error is a
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
// # Live updates
//
// live.js opens /events (server-sent events): a "change" when an instance set changes
// (the store's Watch) or, with Options.Insights, when a component, scorecard,
// deployment or history is written ([Insights.WaitChange]). On a change it fetches the
// page again and swaps its main element, a second after the first change of a burst. A
// stream lasts 55 s and the browser reconnects. [Handler.SetLive] pauses the streams
// (new ones end at once, asking the browser to retry in 10 s), so that an HTTP server's
// graceful shutdown does not wait for open browsers.
//
// A Handler is safe for concurrent use. Create one with [New]; the zero Handler is not
// usable. The zero [Options] is valid: no banner, logs discarded, the system clock, and
// no team pages or scorecards view (they need Options.Insights).
package ui
