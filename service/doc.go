// Package service is the composition root of a Paved service: its identity and catalog
// metadata ([Info]), its settings from the environment ([Config], [Load]), its logger,
// metrics registry and tracer, the admin server, and the lifecycle that starts and stops
// it all in a fixed order ([Service.Run], [Main]).
//
// A team's whole main fits in a few lines:
//
//	type Config struct {
//		service.Config
//		Greeting string `env:"GREETING" envDefault:"Hello"`
//	}
//
//	func main() {
//		service.Main(service.Info{Name: "hello", Owner: "team-a"}, func(s *service.Service, cfg *Config) error {
//			s.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
//				fmt.Fprintln(w, cfg.Greeting)
//			})
//			return nil
//		})
//	}
//
// # Lifecycle
//
// Start: configuration is loaded and validated (every problem at once; exit code 2), the
// logger, registry and tracer are built, the admin server starts (probes answer; readiness
// and startup fail), the start hooks run in order under START_TIMEOUT, the public servers
// and long-running members start, and readiness passes.
//
// Stop, on SIGTERM, SIGINT, a cancelled context or a failed member: readiness fails at
// once, the servers keep serving for DRAIN_DELAY so load balancers take the instance out,
// the servers shut down gracefully under SHUTDOWN_TIMEOUT (connections still busy when it
// runs out are closed: logged at error level, exit code 0), the stop hooks run in
// reverse, telemetry is flushed under its own bound (the OTLP timeout, at most 5s), and
// the admin server closes last. A second signal forces the exit.
//
// A start that fails at any step undoes the steps before it, last first, through the
// same path as a stop. Every error that ends the service is logged once, as one record
// naming what failed and the setting behind it (a port in use names HTTP_ADDR,
// ADMIN_ADDR or GRPC_ADDR); such a runtime failure exits 1.
//
// # Admin endpoints
//
// ADMIN_ADDR (default :9090), apart from the public HTTP_ADDR (default :8080), serves
// /livez, /readyz, /startupz, /healthz, /metrics (the service's own registry, never the
// global one), /info, /config (secrets redacted), and /debug/pprof/ only when
// PPROF_ENABLED=true in a main that links the profiler with
// WithProfiler(profiler.Register) (package service/profiler; without it that setting is
// a configuration error).
//
// # Concurrency
//
// Handlers, hooks and members are added before Run, from one goroutine. The accessors
// ([Service.Logger], [Service.Registerer]...) are safe for concurrent use.
package service
