package service_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/telemetry/otlpgrpc"
)

// TestTraceExporterLinkedByMain: OTEL_EXPORTER_OTLP_PROTOCOL=grpc in a service whose
// main did not link the OTLP/gRPC exporter is a configuration error (exit 2) naming the
// variable and the line to add; with service.WithTraceExporter(otlpgrpc.Exporter()) the
// service exports over gRPC.
func TestTraceExporterLinkedByMain(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
	cfg, err := service.Load[service.Config](service.WithEnviron(env))
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(service.Info{Name: "orders"}, &cfg, service.WithLogOutput(io.Discard))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") ||
		!strings.Contains(err.Error(), "service.WithTraceExporter(otlpgrpc.Exporter())") {
		t.Fatalf("got %v, want a *service.ConfigError naming OTEL_EXPORTER_OTLP_PROTOCOL and WithTraceExporter", err)
	}
	cfg, _ = service.Load[service.Config](service.WithEnviron(env))
	s, err := service.New(service.Info{Name: "orders"}, &cfg, service.WithLogOutput(io.Discard),
		service.WithTraceExporter(otlpgrpc.Exporter()))
	if err != nil {
		t.Fatalf("with the exporter linked: got %v, want nil", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
