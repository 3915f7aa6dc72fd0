// Command paved is the Paved command-line tool: it checks a running service's
// compliance, writes a new service from a template, exports catalog descriptors,
// writes and checks a service's Kubernetes manifests, and checks its API contracts
// against the catalog's.
//
// # paved check
//
//	paved check <admin-url> [--public-url URL] [--format text|json] [--min-score N] [--timeout 10s] [--wait 0s]
//
// Reads the running service's admin /compliance (JSON) and /info, and probes the service
// itself:
//
//   - readyz: GET /readyz answers 200;
//   - metrics-text, metrics-openmetrics: /metrics parses as Prometheus text (with
//     build_info) and as OpenMetrics (ending in "# EOF"), with prometheus/common/expfmt;
//   - config-secrets: /config shows every secret-looking setting (TOKEN, SECRET,
//     PASSWORD, PASSWD, CREDENTIAL, PRIVATE_KEY, API_KEY) as "[REDACTED]" or empty;
//   - public-pprof: GET /debug/pprof/ on the public port is not 200;
//   - public-admin-endpoints: /metrics and /config on the public port are not 200.
//
// The public port is --public-url, or the address /info reports (addresses.http; the
// admin URL's host when it is bound to every interface). Each failed required rule of the
// compliance report is a failure, each failed recommended rule a warning; --min-score N
// also fails a score below N. The text report gives each finding with its fix; --format
// json writes the same as JSON for a pipeline. --timeout bounds the whole check; --wait
// keeps asking while /readyz or /compliance answer 503 (a service still starting).
//
//	paved check --manifests DIR [--config-reference FILE]... [--probe-wait 800ms] [--format text|json]
//
// With --manifests, checks the Kubernetes manifests under DIR instead of a running
// service: for each Deployment, the container's literal variables are loaded as the
// service loads them, then probes (on the admin port at /startupz, /livez, /readyz, or
// gRPC on GRPC_ADDR), probe-timeout (timeoutSeconds at least --probe-wait plus 200ms),
// grace-period (terminationGracePeriodSeconds covers service.StopBudget), service-ports
// (no Service selecting the pods exposes the admin port), env-names (every variable is
// one Paved knows: service.Config's, OTEL_*, the Go runtime's, and those of each
// --config-reference, a Markdown table as service.WriteConfigReference writes it; a typo
// gets a "did you mean") and env-values (every value loads).
//
// # paved manifests
//
//	paved manifests --name NAME --image REF [--namespace NS] [--replicas N] [--env NAME=VALUE]...
//	          [--secret-file VAR=SECRET:KEY]... [--data PATH] [--data-size 1Gi]
//	          [--monitoring-namespace monitoring] [--node-cidr CIDR] [--config-reference FILE]... [--out DIR]
//
// Writes a service's Kubernetes set from its settings (the --env values, loaded as the
// service loads them): Deployment, Service (public ports only), NetworkPolicy,
// PodDisruptionBudget, PodMonitor, and with --data a PersistentVolumeClaim (one
// replica, Recreate). --env NAME=secret:SECRET:KEY reads a value from a Secret.
//
// # paved new
//
//	paved new <module-path> --owner TEAM [--template hello|orders|consumer] [--dir D] [--name NAME] [--description S]
//	          [--on-call URL] [--registry catalog|etcd|consul] [--paved-replace DIR] [--kubernetes] [--image REF]
//
// Writes a new service from an embedded template (templates/<name>/, *.tmpl files
// rendered with text/template; adding a template is adding a directory). Template hello
// (the default) writes main.go (it only starts the service), setup.go (checks and
// routes), info.go (settings and Info) and main_test.go (builds the service, runs it on
// loopback and checks /hello, /readyz, /info and /compliance); template orders writes a service
// that calls inventory through s.Client with a breaker, retries and timeouts (package
// orders/, modelled on examples/orders, tested against a fake inventory on loopback;
// with NATS_URL set it publishes orders.placed); template consumer writes a service
// that consumes orders.placed from NATS JetStream (package consumer/, modelled on
// examples/notifier: durable pull consumer, bounded concurrency, dead-letter subject,
// idempotent handling; its tests run a NATS server in process). All write doc.go, README.md, a Dockerfile and a Backstage catalog-info.yaml (and,
// with --kubernetes, deploy/ as paved manifests writes it for --image), with the
// module path, the component name (the module path's last element made a DNS label, or
// --name), the owner and catalog metadata filled in; --on-call URL sets the on-call link,
// else a placeholder marked to replace, so the service scores 100 as written;
// --registry etcd or consul links that registry backend in main
// (service.WithRegistryBackend(etcd.Backend())) and requires its module in go.mod. The
// directory (default ./<name>)
// must be empty or missing: paved new refuses anything else and writes nothing.
//
// Paved is not published yet, so the go.mod replaces it with a checkout: --paved-replace
// DIR, or, for a paved built from a checkout, that checkout. Then:
//
//	cd <dir> && go mod tidy && go test ./... && go run .
//
// # paved export
//
//	paved export [--format backstage|compass|both] [--out DIR] [--timeout 10s] <admin-url>
//
// Reads the running service's /info (name, owner, description, type, tier, lifecycle,
// links, dependsOn, providesApis, labels) and writes Backstage catalog-info.yaml and/or
// Atlassian Compass compass.yml into --out (default the current directory; existing
// descriptors are replaced), in the same form the catalog server exports.
//
// # paved api check
//
//	paved api check --against CATALOG_URL (--admin ADMIN_URL | --file NAME=PATH...) [--token T] [--format text|json] [--timeout 30s]
//
// Compares each API definition of the service (those a running build publishes at
// --admin's /apis, or files: an OpenAPI or AsyncAPI document in JSON, or a protobuf
// FileDescriptorSet named .pb, .protoset or .binpb) with the latest version the catalog
// at --against keeps of the API of that name, with the catalog's own breaking-change
// check (catalog/server/apicheck). --token is the catalog's read token (default
// $CATALOG_TOKEN). It exits 1 listing the breaking changes and the API's consumers, 0
// when there is none or the catalog does not know the API, 2 for usage errors and an
// unreachable catalog or service.
//
// # Exit codes
//
//   - 0: success: the service is compliant and every probe passed; the files are written.
//   - 1: failure: a check failed, or the service's Info is not a valid catalog component,
//     or a file could not be written.
//   - 2: usage error: an unknown command or flag, a missing or extra argument, an invalid
//     URL, module path, name, owner or format, a non-empty directory for paved new, or a
//     service whose admin address does not answer (the message says which).
package main
