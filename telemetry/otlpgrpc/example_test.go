package otlpgrpc_test

import (
	"context"
	"fmt"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/otlpgrpc"
)

// A program that exports over gRPC links the exporter; the configuration picks it with
// OTEL_EXPORTER_OTLP_PROTOCOL=grpc. (In a service: service.WithTraceExporter(otlpgrpc.Exporter()).)
func ExampleExporter() {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
	cfg, _ := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })

	_, err := telemetry.NewTracing(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: "orders"})
	fmt.Println("without it:", err != nil)

	tr, err := telemetry.NewTracing(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: "orders"},
		telemetry.WithExporter(otlpgrpc.Exporter()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Shutdown(context.Background())
	fmt.Println("with it:", tr.Exporter())
	// Output:
	// without it: true
	// with it: otlp/grpc
}
