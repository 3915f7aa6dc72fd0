package consoletrace_test

import (
	"context"
	"fmt"
	"io"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/consoletrace"
)

// In development, OTEL_TRACES_EXPORTER=console prints spans; the program links the
// exporter (in a service: service.WithTraceExporter(consoletrace.Exporter())).
func ExampleExporter() {
	cfg, _ := telemetry.TracingConfigFromEnv(func(k string) (string, bool) {
		return map[string]string{"OTEL_TRACES_EXPORTER": "console"}[k], k == "OTEL_TRACES_EXPORTER"
	})
	tr, err := telemetry.NewTracing(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: "orders"},
		telemetry.WithExporter(consoletrace.Exporter()), telemetry.WithConsoleWriter(io.Discard))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Shutdown(context.Background())
	fmt.Println(tr.Exporter())
	// Output: console
}
