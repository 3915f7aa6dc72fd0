// Command catalog is the Paved service catalog: the place every Paved service registers
// itself at startup. It serves the REST API under /api/v1 (components, instances,
// scorecards, Prometheus HTTP service discovery at /api/v1/targets, Backstage and Compass
// exports, /api/v1/openapi.json) and the web UI at / on HTTP_ADDR, and, being a Paved
// service itself, probes, metrics, /info and /config on ADMIN_ADDR.
//
//	go run ./cmd/catalog                  # bbolt under ./catalog-data, API+UI on :8080, admin on :9090
//	CATALOG_TOKENS_FILE=tokens go run ./cmd/catalog
//
// Settings, beside the base ones of every Paved service (docs/configuration.md):
//
//	CATALOG_STORE        bbolt (default), etcd or memory
//	CATALOG_DATA_DIR     directory of the bbolt file (default ./catalog-data)
//	CATALOG_TOKENS_FILE  one team:token (or team:sha256:HEX) a line; # starts a comment
//	CATALOG_ADMIN_TOKEN  a token that may change any component (secret)
//	CATALOG_READ_TOKEN   when set, reads need a token too (secret)
//	CATALOG_OPEN         development only: writes need no token (a warning and a UI banner)
//	CATALOG_SCORECARDS_FILE  the platform team's scorecards (JSON, docs/compliance.md);
//	                     the API's and the UI's scores follow it
//	ETCD_ENDPOINTS       etcd client URLs for CATALOG_STORE=etcd
//	CATALOG_MAX_CONNS_PER_CLIENT  connections per client address (default 64; 0: no cap)
//	CATALOG_HOLD_OVER_CAP  how long a connection over that cap is held unread before it
//	                     is closed (default 30s; 0: closed at once)
//	CATALOG_RATE_PER_CLIENT, CATALOG_BURST_PER_CLIENT  requests a second per client
//	                     address, and at once (default 50, 100); over it, 429 with Retry-After
//	CATALOG_RATE_PER_BEARER, CATALOG_BURST_PER_BEARER  the same per bearer token
//	                     (default 200, 400); heartbeats of registered instances at their
//	                     rate are exempt from both (docs/catalog.md, "Limits")
//	CATALOG_REFUSAL_DELAY  a 429 comes after this delay (default 1s; 0: at once)
//	CATALOG_DORA_WINDOW  the window of DORA's keys on the team pages, the API and the
//	                     metrics (default 720h, 30 days)
//	CATALOG_CHANGE_FAILURE_WINDOW  how long after a deployment a rollback or an
//	                     incident counts as its failure (default 24h)
//
// Its own metrics (paved_catalog_*, docs/metrics.md) are on the admin /metrics.
//
// Without any token and not open, the catalog serves reads and refuses every write,
// and says so in its log. It exits 2 on a configuration problem, listing every one.
package main
