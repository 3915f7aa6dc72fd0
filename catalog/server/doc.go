// Package server is the catalog's REST API (/api/v1, JSON, application/problem+json
// errors) over a [store.Store], with bearer-token auth by team.
//
// Routes (Go 1.22 ServeMux patterns):
//
//	GET    /api/v1/components                         list; ?owner= ?tier= ?lifecycle= ?label=k=v (repeatable) ?q=text
//	GET    /api/v1/components/{name}                  get
//	PUT    /api/v1/components/{name}                  create or replace (201 or 200)
//	DELETE /api/v1/components/{name}                  delete with its instances (204)
//	GET    /api/v1/components/{name}/instances        healthy instances; ?status=all for every one;
//	                                                  ?index=N&wait=30s long-polls until the set changes after N
//	PUT    /api/v1/components/{name}/instances/{id}   register or heartbeat
//	DELETE /api/v1/components/{name}/instances/{id}   deregister (204)
//	GET    /api/v1/components/{name}/scorecard        scorecards and the component's score
//	PUT    /api/v1/components/{name}/scorecard        report an instance's scorecard (204)
//	GET    /api/v1/components/{name}/catalog-info.yaml  the component as a Backstage entity ([BackstageYAML])
//	GET    /api/v1/components/{name}/compass.yml      the component as an Atlassian Compass compass.yml ([CompassYAML])
//	GET    /api/v1/export/catalog-info.yaml           every component (list filters apply), one YAML document each
//	GET    /api/v1/export/compass.yml                 the same in Compass form
//	GET    /api/v1/targets                            Prometheus HTTP service discovery
//	GET    /api/v1/openapi.json                       the OpenAPI 3.1 document ([OpenAPI])
//
// # Auth
//
// Writes need "Authorization: Bearer <token>". [Tokens] maps tokens to teams (see
// [ParseTokens] for the file format); a team may change only the components it owns and
// their instances and scorecards, and may not give a component to another team; the admin
// token may change anything. A missing or unknown token is 401 (with WWW-Authenticate);
// a known token without the right is 403. Reads are open unless [Options.ReadToken] is
// set; then they need the read token, a team token or the admin token. [Options.Open]
// (development only) lets every write through without a token.
//
// Tokens are kept only as SHA-256 hashes and compared in constant time.
//
// # Bad input
//
// Bodies are decoded with [catalog.DecodeStrict] and checked with Validate: every
// problem is a 4xx problem+json document naming the field; nothing is written unless the
// whole call succeeds.
//
// A Server is safe for concurrent use. Create one with [New].
package server
