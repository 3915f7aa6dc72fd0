package telemetry

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// HeaderCarrier is a propagation.TextMapCarrier over any header map shaped like
// map[string][]string: NATS message headers (nats.Header), Kafka-style record headers
// gathered into a map, gRPC metadata, net/http's http.Header. A message transport
// propagates trace context with it and no carrier of its own:
//
//	telemetry.Inject(ctx, prop, telemetry.HeaderCarrier(msg.Header))        // producer
//	ctx = telemetry.ExtractHeaders(ctx, prop, msg.Header)                   // consumer
//
// Get finds a key in any letter case (the exact key first, so it costs one map lookup
// when the writer used the propagator's own key). Set stores the key as the propagator
// gives it (lower case for the W3C propagators, as NATS and OpenTelemetry's messaging
// instrumentations write it), or under the spelling the map already holds in another
// case, so a value is never held twice. (For an outgoing net/http request, whose readers
// expect canonical keys, inject with propagation.HeaderCarrier instead.) A nil
// HeaderCarrier reads as empty; Set on it panics, as on a nil map.
type HeaderCarrier map[string][]string

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value of key in any letter case, or "".
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	if k, ok := c.find(key); ok {
		if v := c[k]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Set sets key to the single value value.
func (c HeaderCarrier) Set(key, value string) {
	if _, ok := c[key]; !ok {
		if k, ok := c.find(key); ok {
			key = k
		}
	}
	c[key] = []string{value}
}

// Keys returns the keys held, as the map spells them.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// find returns the map's spelling of key in another letter case. The W3C keys are
// looked up in their canonical MIME form (net/http's) without allocating; other keys
// by a scan.
func (c HeaderCarrier) find(key string) (string, bool) {
	if k := canonicalW3C(key); k != "" {
		if _, ok := c[k]; ok {
			return k, true
		}
	}
	for k := range c {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// canonicalW3C returns the canonical MIME form of a W3C propagation key, "" for
// another key.
func canonicalW3C(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return ""
}

// ExtractHeaders returns ctx with the trace context and baggage prop reads from the
// headers h (through a [HeaderCarrier]). With the propagators this package builds
// ([DefaultPropagator], [Tracing.Propagator]) it returns ctx as it is, without calling
// prop, when h holds none of the headers they read: a message or request without
// trace context costs a few map lookups.
func ExtractHeaders(ctx context.Context, prop propagation.TextMapPropagator, h map[string][]string) context.Context {
	if !mayExtract(prop, h) {
		return ctx
	}
	return prop.Extract(ctx, HeaderCarrier(h))
}

// Inject writes the trace context and baggage of ctx into carrier through prop. With
// the propagators this package builds ([DefaultPropagator], [Tracing.Propagator]) it
// does nothing, without calling prop, when ctx carries neither a valid span context
// nor baggage: they would write nothing. An unsampled message or request under a
// provider that never samples a root then costs two context lookups.
func Inject(ctx context.Context, prop propagation.TextMapPropagator, carrier propagation.TextMapCarrier) {
	if _, ok := prop.(w3cPropagator); ok && !trace.SpanContextFromContext(ctx).IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return
	}
	prop.Inject(ctx, carrier)
}

// DefaultPropagator returns the propagator instrumentation uses when it is given none:
// W3C tracecontext and baggage, as OTEL_PROPAGATORS defaults to.
func DefaultPropagator() propagation.TextMapPropagator { return newPropagator(nil) }

// OrDefaultPropagator returns p, or [DefaultPropagator] when p is nil. Every Paved
// package that takes a propagator treats nil this way.
func OrDefaultPropagator(p propagation.TextMapPropagator) propagation.TextMapPropagator {
	if p == nil {
		return DefaultPropagator()
	}
	return p
}

// OrNoopTracer returns tp, or OpenTelemetry's no-op provider when tp is nil: no spans,
// though incoming trace context still passes through. Every Paved package that takes a
// tracer provider treats nil this way.
func OrNoopTracer(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return noop.NewTracerProvider()
	}
	return tp
}

func newPropagator(names []string) propagation.TextMapPropagator {
	if names == nil {
		names = []string{PropagatorTraceContext, PropagatorBaggage}
	}
	var ps []propagation.TextMapPropagator
	p := w3cPropagator{}
	for _, n := range names {
		switch n {
		case PropagatorTraceContext:
			ps = append(ps, propagation.TraceContext{})
			p.headers = append(p.headers, "traceparent")
		case PropagatorBaggage:
			ps = append(ps, propagation.Baggage{})
			p.headers = append(p.headers, "baggage")
		}
	}
	p.TextMapPropagator = propagation.NewCompositeTextMapPropagator(ps...)
	return p
}

// w3cPropagator is the composite of the W3C propagators newPropagator builds. It knows
// the headers that make them extract anything (tracestate counts only with a
// traceparent), so extraction can be skipped for headers that carry none of them.
type w3cPropagator struct {
	propagation.TextMapPropagator
	headers []string // the propagators' keys, lower case
}

// mayExtract reports whether prop might take something from h: false only when prop is
// a w3cPropagator and h has none of its headers, in lower case (as the propagators
// write them) or canonical MIME case (as net/http reads them). Headers in another case
// are not looked for: the W3C propagators' own Extract would not find them either
// through propagation.HeaderCarrier.
func mayExtract(prop propagation.TextMapPropagator, h map[string][]string) bool {
	w, ok := prop.(w3cPropagator)
	if !ok {
		return true
	}
	for _, k := range w.headers {
		if len(h[k]) > 0 || len(h[canonicalW3C(k)]) > 0 {
			return true
		}
	}
	return false
}
