package natsjs

import (
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier carries W3C trace context and baggage (or whatever the propagator
// writes) in a NATS message's headers: a propagation.TextMapCarrier over nats.Header.
// NATS headers are case-sensitive; the propagator reads the keys it wrote.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value of key, or "".
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set sets key to the single value value.
func (c HeaderCarrier) Set(key, value string) { c[key] = []string{value} }

// Keys returns the header keys.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
