//go:build tools

// Package jaeger pins the Jaeger v2 all-in-one binary used as the OTLP trace
// backend in Paved's integration tests. It is a separate module so that
// Jaeger's dependencies never lift the library's go.mod.
package jaeger

import _ "github.com/jaegertracing/jaeger/cmd/jaeger"
