// Package server is the catalog's REST API (/api/v1, JSON, application/problem+json
// errors) over a [store.Store], with bearer-token auth by team.
//
// Routes (Go 1.22 ServeMux patterns):
//
//	GET    /api/v1/components                         list; ?owner= ?tier= ?lifecycle= ?label=k=v (repeatable) ?q=text
//	                                                  ?failing=<rule-id>: only components failing that rule
//	GET    /api/v1/components/{name}                  get
//	PUT    /api/v1/components/{name}                  create or replace (201 or 200)
//	DELETE /api/v1/components/{name}                  delete with its instances (204)
//	GET    /api/v1/components/{name}/instances        healthy instances; ?status=all for every one;
//	                                                  ?index=N&wait=30s long-polls until the set changes after N
//	PUT    /api/v1/components/{name}/instances/{id}   register; with If-Match: * a heartbeat (412 when not registered)
//	DELETE /api/v1/components/{name}/instances/{id}   deregister (204)
//	GET    /api/v1/components/{name}/scorecard        scorecards, the component's score and failing rules
//	PUT    /api/v1/components/{name}/scorecard        report an instance's scorecard (204)
//	GET    /api/v1/components/{name}/catalog-info.yaml  the component as a Backstage entity ([catalog.BackstageYAML])
//	GET    /api/v1/components/{name}/compass.yml      the component as an Atlassian Compass compass.yml ([catalog.CompassYAML])
//	GET    /api/v1/export/catalog-info.yaml           every component (list filters apply), one YAML document each
//	GET    /api/v1/export/compass.yml                 the same in Compass form
//	GET    /api/v1/export/compass.tar.gz              one <name>/compass.yml per component, a tar.gz archive
//	GET    /api/v1/export/backstage/location.yaml     a Backstage Location targeting the entity stream
//	GET    /api/v1/components/{name}/deployments      its deployments, newest first; ?env= ?since= ?limit=
//	GET    /api/v1/deployments                        every component's deployments; ?owner= ?env= ?since= ?limit=
//	GET    /api/v1/dora                               DORA's four keys per component and team; ?owner= ?component= ?env= ?window=30d
//	POST   /api/v1/events                             a pipeline records a deployment (Compass-shaped, [catalog.DeploymentEvent])
//	GET    /api/v1/targets                            Prometheus HTTP service discovery: every live instance, with a health label
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
// Bodies are decoded with [DecodeStrict] and checked with Validate: every
// problem is a 4xx problem+json document naming the field; nothing is written unless the
// whole call succeeds. A write whose Content-Type is not application/json is 415; a
// request with two Authorization headers is 400.
//
// # Address policy
//
// The addresses an instance registers are checked against [Options.AllowedNetworks]
// (the catalog's CATALOG_ALLOWED_NETWORKS; [DefaultAllowedNetworks] when nil): a host
// name by every address it resolves to ([Options.Resolver]); loopback only when a
// loopback network is listed (the development default lists them); link-local,
// unspecified, multicast and cloud metadata addresses never. A refused address is 400
// naming the field and the policy. /api/v1/targets applies the policy again to what it
// publishes, so records written before the policy are not handed to Prometheus.
//
// # Heartbeats
//
// An agent heartbeats with PUT .../instances/{id} and "If-Match: *" (RFC 9110: act only
// if the resource exists). The store checks and writes in one atomic step
// ([store.Store.HeartbeatInstance]), so a heartbeat racing a deregistration never
// re-creates the instance; an instance the catalog does not hold (deregistered, expired
// and removed, its component deleted, or the catalog restarted empty) is 412 Precondition
// Failed, and the agent registers again with a plain PUT.
//
// # Limits
//
// [Options.Limits] caps the connections of each client address ([Server.LimitListener]
// wraps the listener; a connection over the cap is held unread for a while, then closed,
// so that the catalog sets how often a client over its cap reconnects) and limits
// requests per client address and per bearer token,
// answering 429 problem+json with Retry-After. Heartbeats of registered instances at
// most at their expected rate (one every TTL/3, a burst of 3) are exempt, so they are
// never the requests refused. Every table the limits keep is bounded, with no goroutine
// per client. See [Limits].
//
// # Metrics
//
// With [Options.Registerer] the server registers the paved_catalog_* families: components
// and instances by status (read from the store at scrape time), registrations,
// heartbeats, deregistrations, expirations (counted by [Server.Run]), long polls in
// flight, store latency by operation, refusals by reason and the limit tables' sizes.
//
// # Scores
//
// [Options.Scorecards] holds the platform team's scorecards file (package compliance):
// each instance's reported card is rebuilt as a compliance report
// (compliance.NewReport, with the weights of [Options.RuleSet]) and scored by the
// scorecards that apply to the component's tier, lifecycle and labels and the
// instance's "environment" metadata; the component's score is the lowest. [Server.Store]
// is the store as the API reads it, for the UI.
//
// # Deployments and DORA
//
// [Server.Run] watches the fleet and records, per component and environment, the
// deployments it observes (a new version running) and the incidents (instances
// critical), in the store's histories by compare-and-swap, so that catalog replicas over
// one store agree; [DORAOptions] tunes it. The histories outlive the instances: a
// component whose last instance has gone keeps its deployments and its last scorecard
// (retained). docs/catalog.md describes the rules.
//
// A Server is safe for concurrent use. Create one with [New].
package server
