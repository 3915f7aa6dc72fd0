package otlpgrpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/otlpgrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func config(t *testing.T, env map[string]string) telemetry.TracingConfig {
	t.Helper()
	c, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExportToJaeger: with the exporter linked, OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends
// spans over OTLP/gRPC to a real Jaeger, whose query API then holds the trace under the
// service's name.
func TestExportToJaeger(t *testing.T) {
	endpoint := testenv.Require(t, "PAVED_TEST_OTLP_GRPC_ENDPOINT", "")
	query := testenv.Require(t, "PAVED_TEST_JAEGER_QUERY", "")
	name := "paved-otlpgrpc-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	tr, err := telemetry.NewTracing(context.Background(),
		config(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_TRACES_SAMPLER": "always_on"}),
		telemetry.ResourceInfo{ServiceName: name}, telemetry.WithExporter(otlpgrpc.Exporter()))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Exporter() != "otlp/grpc" {
		t.Errorf("got exporter %q, want otlp/grpc", tr.Exporter())
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "grpc-export")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		var got struct {
			Data []struct {
				Spans []struct{ OperationName string } `json:"spans"`
			} `json:"data"`
		}
		resp, err := client.Get(query + "/api/traces?service=" + url.QueryEscape(name))
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
		}
		if len(got.Data) == 1 && len(got.Data[0].Spans) == 1 && got.Data[0].Spans[0].OperationName == "grpc-export" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger holds %+v for %s after 20 s, want one trace with the span grpc-export", got.Data, name)
		}
	}
}

// TestHungCollector: a collector that accepts connections and never answers blocks
// neither ForceFlush nor Shutdown beyond their contexts, and leaves no goroutine behind.
func TestHungCollector(t *testing.T) {
	addr := testenv.HungServer(t)
	tr, err := telemetry.NewTracing(context.Background(), config(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + addr, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_TIMEOUT": "60000", "OTEL_TRACES_SAMPLER": "always_on",
	}), telemetry.ResourceInfo{ServiceName: "hang"}, telemetry.WithExporter(otlpgrpc.Exporter()))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "stuck")
	span.End()
	flushCtx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := tr.ForceFlush(flushCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ForceFlush: got %v, want deadline exceeded from the hung collector", err)
	}
	start := time.Now()
	shutCtx, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_ = tr.Shutdown(shutCtx)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a 300ms context, want it bounded by the context", d)
	}
}
