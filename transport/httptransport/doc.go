// Package httptransport is Paved's HTTP transport: the standard server middleware, go-kit
// server helpers with RFC 9457 problem+json errors, strict JSON decoding, and clients.
//
// Server middleware, each a func(http.Handler) http.Handler usable alone, applied by
// [Stack] in this order (outermost first): [Recover], [RequestID], tracing and RED
// metrics (from package telemetry, labelled by the ServeMux route pattern, never the raw
// path), [AccessLog], [ConcurrencyLimit], [BodyLimit]. [Timeout] goes on single routes.
//
// Errors: handlers and go-kit endpoints return an [*Error] (or any error implementing
// go-kit's StatusCoder, or an open breaker's error with a RetryAfter method) and
// [WriteError] or [ErrorEncoder] answer with problem+json. A 5xx answer never carries
// the error's text; the cause goes to the log.
//
// Everything here is safe for concurrent use; the middleware keeps no state but the
// concurrency limit's semaphore.
package httptransport
