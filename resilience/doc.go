// Package resilience protects a service's outbound calls: circuit breakers
// (built on github.com/sony/gobreaker/v2), retries with exponential backoff,
// full jitter and a retry budget, timeouts, bulkheads and rate limits
// (golang.org/x/time/rate).
//
// A Policy composes the parts, each optional, in a fixed order from the
// outside in:
//
//	rate limit → bulkhead → overall timeout → retry → breaker → attempt timeout → call
//
// and applies as a generic function (Do), a go-kit endpoint.Middleware
// (Policy.Endpoint) or an http.RoundTripper wrapper (Policy.RoundTripper).
// A Breaker can also be used alone. docs/resilience.md explains the order,
// the defaults and how to tune them.
//
// What counts as a failure is decided by a Classifier (DefaultClassifier:
// transport errors, timeouts, 5xx and 429 fail; other 4xx succeed). A call
// whose caller's context has ended is never counted and never retried.
//
// Refusals are typed errors a transport can map: *OpenError (ErrOpen, 503
// with Retry-After), ErrBulkheadFull (503), *RateLimitError (ErrRateLimited,
// 429 with Retry-After), and a retry stopped by the budget (ErrBudgetExhausted,
// wrapping the last error). RetryAfter extracts the wait.
//
// A Set gathers a service's policies so the service can show breaker states
// on /info, warn on readiness when one is open (Set.Check) and check that
// every declared dependency has a breaker and a timeout (Set.Missing).
//
// Metrics are registered only on a prometheus.Registerer passed with
// WithRegisterer; transitions are logged on the *slog.Logger passed with
// WithLogger (nil discards). There is no package-level state.
//
// Concurrency: Breaker, Policy and Set are safe for concurrent use. Config
// structs are plain values; their zero fields take the documented defaults,
// so the zero PolicyConfig is a working configuration. The zero Breaker and
// Policy are not usable (use NewBreaker and NewPolicy); the zero Set is.
package resilience
