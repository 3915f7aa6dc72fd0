package httptransport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
)

// ClientTelemetryOptions configures [ClientTelemetry]. The zero value injects the
// context's W3C trace context into outgoing requests and records nothing.
type ClientTelemetryOptions struct {
	// TracerProvider starts the client spans; nil means no spans.
	TracerProvider trace.TracerProvider
	// Propagator injects trace context; nil means W3C tracecontext and baggage.
	Propagator propagation.TextMapPropagator
	// Metrics records http_client_request_duration_seconds; nil means no metrics.
	Metrics *ClientMetrics
}

// ClientTelemetry wraps base (nil means http.DefaultTransport) so that every request
// gets a client span, a child of the span in the request's context, named by its
// method ("GET"; "HTTP" for a non-standard one), carries that span's trace context in
// its headers, and is recorded in opts.Metrics.
//
// The span holds the semantic conventions' attributes (http.request.method,
// server.address, server.port, url.full with its password and secret-looking query
// values redacted, http.response.status_code) and, when the request failed or the
// answer is 4xx or 5xx, error.type and an Error status. It ends when the response
// body is read to its end or closed (a body that is never closed leaves its span
// unended, as it leaves its connection); the metrics record the time until the
// response header, as soon as it came or the request failed. The request passed to
// base is a copy with its own headers: the caller's is never changed.
func ClientTelemetry(base http.RoundTripper, opts ClientTelemetryOptions) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	tp := telemetry.OrNoopTracer(opts.TracerProvider)
	prop := telemetry.OrDefaultPropagator(opts.Propagator)
	c := &clientTelemetry{
		next:      base,
		tracer:    tp.Tracer(ScopeName),
		prop:      prop,
		metrics:   opts.Metrics,
		startOpts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)},
	}
	_, c.noop = tp.(noop.TracerProvider)
	return c
}

type clientTelemetry struct {
	next      http.RoundTripper
	tracer    trace.Tracer
	prop      propagation.TextMapPropagator
	metrics   *ClientMetrics
	startOpts []trace.SpanStartOption
	noop      bool // the provider is OpenTelemetry's no-op one: no span to start
}

func (c *clientTelemetry) RoundTrip(r *http.Request) (*http.Response, error) {
	var start time.Time
	if c.metrics != nil {
		start = time.Now()
	}
	method := NormalizeMethod(r.Method)
	ctx := r.Context()
	var span trace.Span // nil when the request records none
	if !c.noop {
		ctx, span = c.tracer.Start(ctx, spanMethod(method), c.startOpts...)
	}
	host, port := serverHostPort(r.URL)
	if span != nil && span.IsRecording() {
		kv := make([]attribute.KeyValue, 0, 6)
		kv = append(kv, semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(host),
			semconv.URLFull(redactedURL(r.URL)))
		if p, err := strconv.Atoi(port); err == nil {
			kv = append(kv, semconv.ServerPort(p))
		}
		if method == MethodOther {
			kv = append(kv, semconv.HTTPRequestMethodOriginal(r.Method))
		}
		span.SetAttributes(kv...)
	}
	r2 := r.WithContext(ctx) // a RoundTripper must not change the caller's request
	r2.Header = r.Header.Clone()
	if r2.Header == nil {
		r2.Header = http.Header{}
	}
	telemetry.Inject(ctx, c.prop, propagation.HeaderCarrier(r2.Header))

	resp, err := c.next.RoundTrip(r2)
	if err == nil && resp == nil {
		err = errors.New("httptransport: the RoundTripper returned neither a response nor an error")
	}
	status, errType := 0, ""
	if err != nil {
		errType = ErrorType(err)
	} else {
		status = resp.StatusCode
	}
	if c.metrics != nil {
		c.metrics.Observe(ctx, method, host, port, status, errType, time.Since(start))
	}
	if span == nil {
		return resp, err
	}
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, err.Error())
		span.End()
		return resp, err
	}
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
			span.SetStatus(codes.Error, "")
		}
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
		return resp, nil
	}
	resp.Body = newSpanBody(span, resp.Body)
	return resp, nil
}

// serverHostPort returns the host and port a request goes to: the URL's port, or the
// scheme's default (80, 443) when it names none; "" for an unknown scheme's.
func serverHostPort(u *url.URL) (host, port string) {
	host, port = u.Hostname(), u.Port()
	if port == "" {
		switch u.Scheme {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		}
	}
	return host, port
}

// redactedURL is u as url.full shows it: no password, secret-looking query values
// replaced by REDACTED.
func redactedURL(u *url.URL) string {
	if u.RawQuery == "" || telemetry.RedactQuery(u.RawQuery) == u.RawQuery {
		return u.Redacted()
	}
	u2 := *u
	u2.RawQuery = telemetry.RedactQuery(u.RawQuery)
	return u2.Redacted()
}

// ErrorType returns the error.type of an outgoing request that got no response: the
// ErrorType() of an error in err's chain that has one, "timeout" for a deadline or a
// network timeout, "canceled", "breaker_open", "bulkhead_full", "rate_limited",
// "retry_budget_exhausted" for resilience's refusals, "connection_refused", else
// "_OTHER" (as the semantic conventions say), so the label stays bounded.
func ErrorType(err error) string {
	var t interface{ ErrorType() string }
	var ne net.Error
	switch {
	case errors.As(err, &t) && t.ErrorType() != "":
		return t.ErrorType()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, resilience.ErrOpen):
		return "breaker_open"
	case errors.Is(err, resilience.ErrBulkheadFull):
		return "bulkhead_full"
	case errors.Is(err, resilience.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, resilience.ErrBudgetExhausted):
		return "retry_budget_exhausted"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// spanBody ends the client span when the response body is read to its end or
// closed, whichever comes first; a read error other than EOF marks the span. It keeps
// io.Writer for a body that has it (a 101 Switching Protocols connection).
type spanBody struct {
	body  io.ReadCloser
	span  trace.Span
	ended atomic.Bool
}

func newSpanBody(span trace.Span, body io.ReadCloser) io.ReadCloser {
	b := &spanBody{body: body, span: span}
	if _, ok := body.(io.ReadWriteCloser); ok {
		return &spanBodyWriter{b}
	}
	return b
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.end()
	default:
		b.fail(err)
	}
	return n, err
}

func (b *spanBody) Close() error {
	b.end()
	return b.body.Close()
}

func (b *spanBody) end() {
	if b.ended.CompareAndSwap(false, true) {
		b.span.End()
	}
}

func (b *spanBody) fail(err error) {
	if !b.ended.Load() {
		b.span.SetAttributes(semconv.ErrorTypeKey.String(ErrorType(err)))
		b.span.SetStatus(codes.Error, err.Error())
	}
}

// spanBodyWriter is a spanBody over a body that can be written to.
type spanBodyWriter struct{ *spanBody }

func (b *spanBodyWriter) Write(p []byte) (int, error) {
	n, err := b.body.(io.Writer).Write(p)
	if err != nil {
		b.fail(err)
	}
	return n, err
}
