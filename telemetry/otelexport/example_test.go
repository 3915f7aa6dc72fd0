package otelexport_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/otelexport"
)

// A program that pushes metrics and exports logs over OpenTelemetry links the export;
// the configuration picks the exporters. (In a service:
// service.WithOTelExport(otelexport.Signals()).) Here both go to the console.
func ExampleStart() {
	env := map[string]string{"OTEL_METRICS_EXPORTER": "prometheus,console", "OTEL_LOGS_EXPORTER": "console"}
	cfg, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("without it:", telemetry.CheckSignals(cfg, false) != nil)

	reg := telemetry.NewRegistry(telemetry.BuildInfo{Service: "orders", Version: "1.0.0"})
	exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{Gatherer: reg, Console: io.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The service's logger writes its own output and feeds the logs export.
	logger := slog.New(exp.LogHandler(slog.NewTextHandler(io.Discard, nil)))
	logger.Info("order placed")
	fmt.Println("with it:", exp.Exporters())
	fmt.Println("/metrics too:", telemetry.ServesMetrics(cfg))
	_ = exp.Shutdown(context.Background())
	// Output:
	// without it: true
	// with it: [metrics:console logs:console]
	// /metrics too: true
}
