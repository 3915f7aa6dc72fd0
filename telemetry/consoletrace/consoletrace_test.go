package consoletrace_test

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/consoletrace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestConsoleExporter: OTEL_TRACES_EXPORTER=console, with the exporter linked, writes
// each ended span as JSON, with the service's name, to the console writer.
func TestConsoleExporter(t *testing.T) {
	cfg, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) {
		if k == "OTEL_TRACES_EXPORTER" {
			return "console", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf testenv.Buffer
	tr, err := telemetry.NewTracing(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: "console-svc"},
		telemetry.WithExporter(consoletrace.Exporter()), telemetry.WithConsoleWriter(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Exporter() != "console" || !tr.Recording() {
		t.Errorf("got exporter %q recording %v, want console true", tr.Exporter(), tr.Recording())
	}
	_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "console-op")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, `"console-op"`) || !strings.Contains(out, "console-svc") {
		t.Errorf("got console output %q, want the span and service name", out)
	}
}
