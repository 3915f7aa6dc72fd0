// Package httptransport is Paved's HTTP transport: the standard server middleware, go-kit
// server helpers with RFC 9457 problem+json errors, strict JSON decoding, and clients.
//
// Server middleware, each a func(http.Handler) http.Handler usable alone, applied by
// [Stack] in this order (outermost first): [Recover], [RequestID], [ServerTelemetry]
// (a server span and http_server_request_duration_seconds, labelled by the ServeMux route
// pattern, never the raw path), [AccessLog], [ConcurrencyLimit], [BodyLimit]. [Timeout]
// goes on single routes.
//
// Instrumentation, with the OpenTelemetry semantic conventions' span names, attributes
// and (as Prometheus shows them) metric labels: [ServerTelemetry] and [ServerMetrics]
// for servers; [ClientTelemetry] (a client span named by the method, trace context
// injected, ended when the body is read or closed) and [ClientMetrics] for clients,
// which [NewClient] installs; [TraceEndpoint] for go-kit endpoints served or called over
// any transport; [KitServerTelemetry] and [KitClientTelemetry] for go-kit's own HTTP
// servers and clients. A nil *ServerMetrics or *ClientMetrics records nothing.
//
// Errors: handlers and go-kit endpoints return an [*Error] (or any error implementing
// go-kit's StatusCoder, or an open breaker's error with a RetryAfter method) and
// [WriteError] or [ErrorEncoder] answer with problem+json. A 5xx answer never carries
// the error's text; the cause goes to the log.
//
// Request bodies: [DecodeJSON] (and [DecodeJSONRequest], [DecodeJSONReader],
// [DecodeJSONBytes]) is Paved's one strict JSON decoder, the catalog's too: unknown,
// duplicate or case-mismatched names, wrong types, null where Go has no nil, NUL
// characters, nesting deeper than [MaxJSONDepth] and trailing data are each a 400 naming
// the field.
//
// Everything here is safe for concurrent use; the middleware keeps no state but the
// concurrency limit's semaphore.
package httptransport
