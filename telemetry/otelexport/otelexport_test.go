package otelexport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/otelexport"
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

// sampled returns a context holding a sampled span context with fixed ids.
func sampled(t *testing.T) (context.Context, trace.SpanContext) {
	t.Helper()
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc), sc
}

// registry returns a registry with a counter and a histogram in Paved's own form (an
// exemplar holding the trace id of a sampled request).
func registry(t *testing.T, sc trace.SpanContext) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	h, err := telemetry.NewHistogram(reg, prometheus.HistogramOpts{Name: "http_server_request_duration_seconds", Help: "h", Buckets: []float64{0.1, 1}},
		"http_request_method", "http_route", "http_response_status_code")
	if err != nil {
		t.Fatal(err)
	}
	h.Observe(sc, 30*time.Millisecond, "GET", "/orders/{id}", "200")
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "orders_placed_total", Help: "c"}, []string{"tier"})
	c.WithLabelValues("gold").Add(3)
	reg.MustRegister(c)
	return reg
}

// TestExportToCollector: with OTEL_METRICS_EXPORTER=otlp and OTEL_LOGS_EXPORTER=otlp, a
// real OpenTelemetry Collector receives, over each protocol, the registry's metrics
// with their attributes (the request histogram under its semantic-convention name, unit
// and keys; other metrics as they are) and the histogram's exemplar, and the log records with the
// trace and span ids of their context and the service's resource. Records below the
// level are not exported.
func TestExportToCollector(t *testing.T) {
	col := testenv.RequireCollector(t)
	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			endpoint := col.Endpoint
			if proto == "grpc" {
				endpoint = col.GRPCEndpoint
			}
			name := "otelexport-" + strings.ReplaceAll(proto, "/", "-") + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			cfg := config(t, map[string]string{
				"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_LOGS_EXPORTER": "otlp",
				"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": proto,
				"OTEL_METRIC_EXPORT_INTERVAL": "60000", "OTEL_BLRP_SCHEDULE_DELAY": "50",
			})
			res, err := telemetry.NewResource(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: name, Version: "1.2.3"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, sc := sampled(t)
			var failures bytes.Buffer
			exp, err := otelexport.Start(context.Background(), cfg, res, telemetry.SignalOptions{
				Gatherer: registry(t, sc), Level: slog.LevelInfo, Logger: slog.New(slog.NewTextHandler(&failures, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(exp.Exporters(), " "), "metrics:otlp/"+proto+" logs:otlp/"+proto; got != want {
				t.Errorf("got exporters %q, want %q", got, want)
			}
			var out bytes.Buffer
			logger := slog.New(exp.LogHandler(slog.NewJSONHandler(&out, nil)))
			logger.InfoContext(ctx, "order placed", "order_id", 42)
			logger.DebugContext(ctx, "below the level")
			ctxShut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := exp.Shutdown(ctxShut); err != nil { // pushes the metrics a last time
				t.Fatalf("Shutdown: %v", err)
			}
			if failures.Len() > 0 {
				t.Errorf("export failures logged:\n%s", failures.String())
			}
			if !strings.Contains(out.String(), `"msg":"order placed"`) || strings.Contains(out.String(), "below the level") {
				t.Errorf("log output: got %q, want the info record only (the output keeps working)", out.String())
			}

			var hist, counter *testenv.OTLPMetric
			var logs []testenv.OTLPLog
			ok := testenv.Eventually(10*time.Second, func() bool {
				hist, counter = nil, nil
				for _, m := range col.Metrics(t) {
					if m.Resource["service.name"] != name {
						continue
					}
					switch m.Name {
					case "http.server.request.duration":
						hist = &m
					case "orders_placed_total":
						counter = &m
					case "target_info", "http_server_request_duration_seconds":
						t.Errorf("%s arrived, want target_info left out (it is the resource) and the request histogram under its semantic-convention name", m.Name)
					}
				}
				logs = logs[:0]
				for _, l := range col.Logs(t) {
					if l.Resource["service.name"] == name {
						logs = append(logs, l)
					}
				}
				return hist != nil && counter != nil && len(logs) > 0
			})
			if !ok {
				t.Fatalf("the collector holds, for %s: histogram %v, counter %v, logs %v; want all three", name, hist, counter, logs)
			}
			if hist.Kind != "histogram" || len(hist.Points) != 1 {
				t.Fatalf("histogram: got %+v, want one histogram point", hist)
			}
			p := hist.Points[0]
			if hist.Unit != "s" {
				t.Errorf("histogram unit: got %q, want s", hist.Unit)
			}
			want := map[string]string{"http.request.method": "GET", "http.route": "/orders/{id}", "http.response.status_code": "200"}
			for k, v := range want {
				if p.Attributes[k] != v {
					t.Errorf("histogram attribute %s: got %q, want %q (all: %v)", k, p.Attributes[k], v, p.Attributes)
				}
			}
			if len(p.Exemplars) != 1 || !strings.EqualFold(p.Exemplars[0].TraceID, sc.TraceID().String()) {
				t.Errorf("histogram exemplars: got %+v, want one with trace id %s", p.Exemplars, sc.TraceID())
			}
			if counter.Kind != "sum" || len(counter.Points) != 1 || counter.Points[0].Attributes["tier"] != "gold" {
				t.Errorf("counter: got %+v, want one sum point with tier=gold", counter)
			}
			if len(logs) != 1 {
				t.Fatalf("logs: got %+v, want the info record only", logs)
			}
			l := logs[0]
			if l.Body != "order placed" || l.Severity != "INFO" || l.Attributes["order_id"] != "42" || l.Resource["service.version"] != "1.2.3" || l.Scope != otelexport.ScopeName {
				t.Errorf("log record: got %+v, want body, severity, attribute, resource and scope", l)
			}
			if !strings.EqualFold(l.TraceID, sc.TraceID().String()) || !strings.EqualFold(l.SpanID, sc.SpanID().String()) {
				t.Errorf("log record ids: got trace %q span %q, want %s %s", l.TraceID, l.SpanID, sc.TraceID(), sc.SpanID())
			}
		})
	}
}

// TestConsole: OTEL_METRICS_EXPORTER=console and OTEL_LOGS_EXPORTER=console write the
// metrics and the records to the console writer.
func TestConsole(t *testing.T) {
	cfg := config(t, map[string]string{"OTEL_METRICS_EXPORTER": "console", "OTEL_LOGS_EXPORTER": "console"})
	ctx, sc := sampled(t)
	var console bytes.Buffer
	exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{Gatherer: registry(t, sc), Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(exp.LogHandler(slog.DiscardHandler)).InfoContext(ctx, "to the console")
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"orders_placed_total", "http.server.request.duration", "to the console", sc.TraceID().String()} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, console.String())
		}
	}
}

// TestUnreachableCollector: a collector that is not there fails the pushes, logged on
// the logger with the exporter's name, and holds neither Shutdown beyond its context
// nor any goroutine.
func TestUnreachableCollector(t *testing.T) {
	cfg := config(t, map[string]string{
		"OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + testenv.HungServer(t), "OTEL_EXPORTER_OTLP_TIMEOUT": "300",
	})
	var failures testenv.Buffer
	exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(&failures, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(exp.LogHandler(slog.DiscardHandler)).Info("lost")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err = exp.Shutdown(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Shutdown took %s, want within its 2s context", took)
	}
	if err == nil && !strings.Contains(failures.String(), "export failed") {
		t.Errorf("got no error and no logged failure (%q), want the failed export reported", failures.String())
	}
}

// TestStartNeedsNothingWhenNothingIsPushed: the default configuration (prometheus
// only, no logs export) starts nothing.
func TestStartNeedsNothingWhenNothingIsPushed(t *testing.T) {
	exp, err := otelexport.Start(context.Background(), config(t, nil), nil, telemetry.SignalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Exporters()) != 0 {
		t.Errorf("got exporters %v, want none", exp.Exporters())
	}
	h := slog.DiscardHandler
	if exp.LogHandler(h) != h {
		t.Error("LogHandler wrapped the handler, want it as it is")
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	var ce *telemetry.ConfigError
	if err := telemetry.CheckSignals(config(t, map[string]string{"OTEL_LOGS_EXPORTER": "otlp"}), false); !errors.As(err, &ce) || ce.Variable != "OTEL_LOGS_EXPORTER" || !strings.Contains(err.Error(), "otelexport.Signals()") {
		t.Errorf("CheckSignals without the export linked: got %v, want a ConfigError naming OTEL_LOGS_EXPORTER and the line to add", err)
	}
}

// TestShutdownWithEndedContext: a Shutdown whose context has already ended returns at
// once and still stops every worker of the SDKs (goleak checks at the end).
func TestShutdownWithEndedContext(t *testing.T) {
	cfg := config(t, map[string]string{
		"OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + testenv.HungServer(t),
	})
	exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{Gatherer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(exp.LogHandler(slog.DiscardHandler)).Info("lost")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_ = exp.Shutdown(ctx)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Shutdown with an ended context took %s, want at once", took)
	}
}

// TestSettingsTakeEffect: the per-signal endpoint, headers and compression, the export
// interval and the batch delay reach the exporters: an OTLP/HTTP server records what
// arrives before any Shutdown.
func TestSettingsTakeEffect(t *testing.T) {
	type got struct{ path, tenant, encoding string }
	var mu sync.Mutex
	var reqs []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		reqs = append(reqs, got{r.URL.Path, r.Header.Get("X-Tenant"), r.Header.Get("Content-Encoding")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	cfg := config(t, map[string]string{
		"OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT":            "http://127.0.0.1:1", // overridden below
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT":    srv.URL + "/custom/metrics",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":       srv.URL + "/custom/logs",
		"OTEL_EXPORTER_OTLP_METRICS_HEADERS":     "x-tenant=m",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS":        "x-tenant=l",
		"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "gzip",
		"OTEL_METRIC_EXPORT_INTERVAL":            "100",
		"OTEL_BLRP_SCHEDULE_DELAY":               "50",
	})
	_, sc := sampled(t)
	exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{Gatherer: registry(t, sc)})
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	slog.New(exp.LogHandler(slog.DiscardHandler)).Info("one")
	want := map[got]bool{{"/custom/metrics", "m", "gzip"}: false, {"/custom/logs", "l", ""}: false}
	if !testenv.Eventually(5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range reqs {
			if _, ok := want[r]; ok {
				want[r] = true
			}
		}
		return want[got{"/custom/metrics", "m", "gzip"}] && want[got{"/custom/logs", "l", ""}]
	}) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("got requests %+v before any Shutdown, want %v", reqs, want)
	}
}
