package main

import (
	"os"

	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/telemetry/otelexport"
)

func main() {
	// Ports of its own, so orders runs beside inventory and hello on one machine;
	// the environment still wins.
	setDefault("HTTP_ADDR", ":8082")
	setDefault("ADMIN_ADDR", ":9092")
	// Without a registry, find inventory where `go run ./examples/inventory` listens.
	if os.Getenv("REGISTRY") == "" && os.Getenv("CATALOG_URL") == "" {
		setDefault("DISCOVERY_STATIC", "inventory=127.0.0.1:8081")
	}
	info := orders.Info()
	if os.Getenv("NATS_URL") != "" {
		// With NATS_URL set, orders publishes orders.placed: the broker is a dependency
		// (its publish breaker shows in /info), declared for the catalog.
		info.DependsOn = append(info.DependsOn, "nats")
	}
	// Metrics and logs over OTLP too when OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER
	// say so.
	service.Main(info, orders.Setup, service.WithOTelExport(otelexport.Signals()))
}

// setDefault sets the variable key to value unless the environment already sets it.
func setDefault(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		_ = os.Setenv(key, value)
	}
}
