package telemetry

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/paved-road/paved/internal/testenv"
)

const remoteTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func mustConfig(t *testing.T, env map[string]string) TracingConfig {
	t.Helper()
	c, err := TracingConfigFromEnv(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRecorded(t *testing.T, env map[string]string, res ResourceInfo) (*Tracing, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tr, err := NewTracing(context.Background(), mustConfig(t, env), res, WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr, rec
}

func TestNewTracingResourcePrecedence(t *testing.T) {
	env := map[string]string{
		"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,team=payments,deployment.environment.name=staging,service.version=0.0.0",
		"OTEL_SERVICE_NAME":        "from-otel-service-name",
	}
	tests := []struct {
		name string
		res  ResourceInfo
		want map[string]string
	}{
		{"code wins over variables", ResourceInfo{ServiceName: "orders", Version: "1.2.3", Namespace: "shop", InstanceID: "orders-1"},
			map[string]string{"service.name": "orders", "service.version": "1.2.3", "service.namespace": "shop",
				"service.instance.id": "orders-1", "deployment.environment.name": "staging", "team": "payments", "telemetry.sdk.language": "go"}},
		{"OTEL_SERVICE_NAME beats OTEL_RESOURCE_ATTRIBUTES when code is silent", ResourceInfo{Environment: "production"},
			map[string]string{"service.name": "from-otel-service-name", "deployment.environment.name": "production", "service.version": "0.0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, rec := newRecorded(t, env, tt.res)
			_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "op")
			span.End()
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			got := map[string]string{}
			for _, kv := range spans[0].Resource().Attributes() {
				got[string(kv.Key)] = kv.Value.String()
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("resource %s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestNewTracingUnknownServiceName(t *testing.T) {
	tr, rec := newRecorded(t, nil, ResourceInfo{})
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "op")
	span.End()
	name, _ := rec.Ended()[0].Resource().Set().Value("service.name")
	if !strings.HasPrefix(name.AsString(), "unknown_service:") {
		t.Errorf("got service.name %q, want unknown_service:<executable>", name.AsString())
	}
}

// TestNewTracingNoExporterIsNoop proves that without an exporter nothing is recorded
// while an incoming trace context still passes through.
func TestNewTracingNoExporterIsNoop(t *testing.T) {
	for _, env := range []map[string]string{nil, {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}} {
		tr, err := NewTracing(context.Background(), mustConfig(t, env), ResourceInfo{ServiceName: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Recording() || tr.Exporter() != ExporterNone {
			t.Errorf("env %v: got recording %v exporter %q, want false %q", env, tr.Recording(), tr.Exporter(), ExporterNone)
		}
		h := http.Header{"Traceparent": {remoteTraceparent}}
		ctx := tr.Propagator().Extract(context.Background(), propagation.HeaderCarrier(h))
		_, span := tr.TracerProvider().Tracer("t").Start(ctx, "op")
		if span.IsRecording() {
			t.Error("got a recording span, want none")
		}
		if got := span.SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("got trace id %s, want the incoming one", got)
		}
		span.End()
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	}
}

func TestNewTracingSamplers(t *testing.T) {
	remote := func() context.Context {
		h := http.Header{"Traceparent": {remoteTraceparent}}
		return propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h))
	}
	tests := []struct {
		env  map[string]string
		ctx  context.Context
		want bool
	}{
		{map[string]string{}, context.Background(), true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, remote(), false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, context.Background(), false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, remote(), true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, context.Background(), false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, remote(), true},
	}
	for _, tt := range tests {
		tr, _ := newRecorded(t, tt.env, ResourceInfo{ServiceName: "s"})
		_, span := tr.TracerProvider().Tracer("t").Start(tt.ctx, "op")
		if got := span.SpanContext().IsSampled(); got != tt.want {
			t.Errorf("env %v: got sampled %v, want %v", tt.env, got, tt.want)
		}
		span.End()
	}
}

// TestNewTracingDeclaresRootNeverSampled proves that the provider of a sampler that
// never samples a root says so, so the server middleware skips those spans, and that
// any other sampler's provider does not (it would lose traces).
func TestNewTracingDeclaresRootNeverSampled(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, true},
	}
	for _, tt := range tests {
		tr, _ := newRecorded(t, tt.env, ResourceInfo{ServiceName: "s"})
		if got := RootNeverSampled(tr.TracerProvider()); got != tt.want {
			t.Errorf("env %v: got RootNeverSampled %v, want %v", tt.env, got, tt.want)
		}
	}
	sdk := sdktrace.NewTracerProvider()
	defer func() { _ = sdk.Shutdown(context.Background()) }()
	if RootNeverSampled(DeclareRootNeverSampled(DeclareRootNeverSampled(sdk))) != true {
		t.Error("a provider declared twice: got not declared")
	}
	if RootNeverSampled(sdk) {
		t.Error("an SDK provider not declared: got declared")
	}
	if !RootNeverSampled(noop.NewTracerProvider()) || !RootNeverSampled(OrNoopTracer(nil)) {
		t.Error("the no-op provider: got not root-never-sampled, want it (it samples nothing)")
	}
}

func TestNewTracingPropagators(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{"baggage", "traceparent", "tracestate"}},
		{map[string]string{"OTEL_PROPAGATORS": "tracecontext"}, []string{"traceparent", "tracestate"}},
		{map[string]string{"OTEL_PROPAGATORS": "none"}, nil},
	}
	for _, tt := range tests {
		tr, err := NewTracing(context.Background(), mustConfig(t, tt.env), ResourceInfo{})
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Propagator().Fields()
		slices.Sort(got)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("env %v: got fields %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestExporterNotLinked: the console and OTLP/gRPC exporters are linked by a program's
// main (telemetry/consoletrace, telemetry/otlpgrpc); a setting that needs one the
// program did not link is a *ConfigError naming the variable and the line to add.
func TestExporterNotLinked(t *testing.T) {
	for _, tt := range []struct {
		env            map[string]string
		variable, line string
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER", "service.WithTraceExporter(consoletrace.Exporter())"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			"OTEL_EXPORTER_OTLP_PROTOCOL", "service.WithTraceExporter(otlpgrpc.Exporter())"},
	} {
		_, err := NewTracing(context.Background(), mustConfig(t, tt.env), ResourceInfo{ServiceName: "x"})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != tt.variable || !strings.Contains(err.Error(), tt.line) {
			t.Errorf("%v: got %v, want a *ConfigError for %s naming %s", tt.env, err, tt.variable, tt.line)
		}
	}
	// Linked, the same settings build.
	tr, err := NewTracing(context.Background(), mustConfig(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"}), ResourceInfo{ServiceName: "x"},
		WithExporter(Exporter{Name: ExporterConsole, New: func(context.Context, ExporterSettings) (sdktrace.SpanExporter, error) {
			return tracetest.NewInMemoryExporter(), nil
		}}))
	if err != nil || tr.Exporter() != ExporterConsole {
		t.Fatalf("console linked: got %v, %v, want the console exporter", tr, err)
	}
	_ = tr.Shutdown(context.Background())
}

func TestTracingSetGlobal(t *testing.T) {
	oldTP, oldProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(oldTP); otel.SetTextMapPropagator(oldProp) })
	tr, _ := newRecorded(t, nil, ResourceInfo{ServiceName: "g"})
	if otel.GetTracerProvider() == tr.TracerProvider() {
		t.Fatal("got the global provider set by NewTracing, want it untouched")
	}
	tr.SetGlobal()
	if otel.GetTracerProvider() != tr.TracerProvider() {
		t.Error("got another global provider, want ours after SetGlobal")
	}
}

// TestUnreachableCollectorNeverBlocks proves that a collector that accepts connections
// but never answers blocks neither requests nor Shutdown beyond its context, and leaves
// no goroutine behind (goleak checks the latter in TestMain).
func TestUnreachableCollectorNeverBlocks(t *testing.T) {
	for _, proto := range []string{"http/protobuf", "http/json"} { // grpc: telemetry/otlpgrpc's test
		t.Run(proto, func(t *testing.T) {
			addr := testenv.HungServer(t)
			cfg := mustConfig(t, map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + addr,
				"OTEL_EXPORTER_OTLP_PROTOCOL": proto,
				"OTEL_EXPORTER_OTLP_TIMEOUT":  "60000", // only the shutdown context may end exports
				"OTEL_TRACES_SAMPLER":         "always_on",
			})
			tr, err := NewTracing(context.Background(), cfg, ResourceInfo{ServiceName: "hang"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tr.Exporter(), "otlp/"+proto; got != want {
				t.Errorf("got exporter %q, want %q", got, want)
			}
			// An export is now stuck in the collector.
			_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "first")
			span.End()
			flushCtx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			if err := tr.ForceFlush(flushCtx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got ForceFlush error %v, want deadline exceeded from the hanging collector", err)
			}
			cancel()

			mux := http.NewServeMux()
			mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
			srv := httptest.NewServer(spanHandler(tr.TracerProvider(), mux))
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			for i := range 200 {
				resp, err := client.Get(srv.URL + "/work")
				if err != nil {
					t.Fatalf("request %d: got %v, want a response while the collector hangs", i, err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("got status %d, want 204", resp.StatusCode)
				}
			}

			const flushTimeout = 300 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			defer cancel()
			start := time.Now()
			err = tr.Shutdown(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got Shutdown error %v, want deadline exceeded", err)
			}
			// Generous slack for -race on a shared 2-core machine; the exporter timeout
			// is 60 s, so passing proves the context bounded the shutdown.
			if elapsed > flushTimeout+3*time.Second {
				t.Errorf("got Shutdown after %v, want about %v", elapsed, flushTimeout)
			}
		})
	}
}

// TestOTLPExportOverTLSWithHeaders proves the OTLP/HTTP exporter sends to the configured
// https endpoint's /v1/traces, trusting the CA from OTEL_EXPORTER_OTLP_CERTIFICATE and
// sending OTEL_EXPORTER_OTLP_HEADERS, in the configured encoding and compression. The
// process environment holds conflicting OTEL_* values that the exporter must not read:
// only the validated configuration counts.
func TestOTLPExportOverTLSWithHeaders(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=from-process-env")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
	tests := []struct {
		protocol, compression, wantType, wantEncoding string
	}{
		{"http/protobuf", "", "application/x-protobuf", ""},
		{"http/json", "gzip", "application/json", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			type got struct{ path, key, ctype, encoding string }
			received := make(chan got, 10)
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received <- got{r.URL.Path, r.Header.Get("Api-Key"), r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding")}
				w.Header().Set("Content-Type", tt.wantType)
				if tt.wantType == "application/json" {
					io.WriteString(w, "{}")
				}
			}))
			defer srv.Close()
			ca := t.TempDir() + "/ca.pem"
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := mustConfig(t, map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":    srv.URL,
				"OTEL_EXPORTER_OTLP_PROTOCOL":    tt.protocol,
				"OTEL_EXPORTER_OTLP_COMPRESSION": tt.compression,
				"OTEL_EXPORTER_OTLP_CERTIFICATE": ca,
				"OTEL_EXPORTER_OTLP_HEADERS":     "api-key=k%3D1",
			})
			tr, err := NewTracing(context.Background(), cfg, ResourceInfo{ServiceName: "tls"})
			if err != nil {
				t.Fatal(err)
			}
			_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "op")
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := tr.Shutdown(ctx); err != nil {
				t.Fatalf("got Shutdown error %v, want nil", err)
			}
			select {
			case g := <-received:
				want := got{"/v1/traces", "k=1", tt.wantType, tt.wantEncoding}
				if g != want {
					t.Errorf("got %+v, want %+v", g, want)
				}
			default:
				t.Fatal("got no export request, want one")
			}
		})
	}
}

// ExtractHeaders skips extraction only when the W3C propagators would find
// nothing: no traceparent and no baggage header. Any other propagator is always asked.
func TestMayExtract(t *testing.T) {
	w3c := DefaultPropagator()
	tests := []struct {
		name   string
		prop   propagation.TextMapPropagator
		header http.Header
		want   bool
	}{
		{"no headers", w3c, http.Header{}, false},
		{"tracestate alone", w3c, http.Header{"Tracestate": {"a=b"}}, false},
		{"traceparent", w3c, http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}, true},
		{"baggage", w3c, http.Header{"Baggage": {"k=v"}}, true},
		{"lower-case traceparent (NATS headers)", w3c, http.Header{"traceparent": {"x"}}, true},
		{"baggage only propagator, traceparent sent", newPropagator([]string{PropagatorBaggage}), http.Header{"Traceparent": {"x"}}, false},
		{"other propagator", propagation.TraceContext{}, http.Header{}, true},
	}
	for _, tt := range tests {
		if got := mayExtract(tt.prop, tt.header); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Inject writes what the propagator would write, and skips the propagator only when
// the W3C propagators would write nothing; a propagator of another kind is always
// asked, even for a context without trace context or baggage.
func TestInject(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	sampled, span := tp.Tracer("t").Start(context.Background(), "s")
	span.End()
	unsampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}))
	bag, err := baggage.Parse("k=v")
	if err != nil {
		t.Fatal(err)
	}
	withBaggage := baggage.ContextWithBaggage(context.Background(), bag)
	asked := &countingPropagator{}
	tests := []struct {
		name string
		ctx  context.Context
		prop propagation.TextMapPropagator
		want []string // header keys written
	}{
		{"empty context", context.Background(), DefaultPropagator(), nil},
		{"sampled span", sampled, DefaultPropagator(), []string{"traceparent"}},
		{"unsampled span context", unsampled, DefaultPropagator(), []string{"traceparent"}},
		{"baggage", withBaggage, DefaultPropagator(), []string{"baggage"}},
		{"baggage, tracecontext-only propagator", withBaggage, newPropagator([]string{PropagatorTraceContext}), nil},
		{"other propagator, empty context", context.Background(), asked, []string{"x-asked"}},
	}
	for _, tt := range tests {
		h := map[string][]string{}
		Inject(tt.ctx, tt.prop, HeaderCarrier(h))
		var got []string
		for k := range h {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: wrote %v, want %v", tt.name, got, tt.want)
		}
	}
	if asked.n != 1 {
		t.Errorf("the other propagator was asked %d times, want 1", asked.n)
	}
}

// countingPropagator writes x-asked on every Inject and counts the calls.
type countingPropagator struct{ n int }

func (p *countingPropagator) Inject(_ context.Context, c propagation.TextMapCarrier) {
	p.n++
	c.Set("x-asked", "1")
}
func (p *countingPropagator) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}
func (p *countingPropagator) Fields() []string { return []string{"x-asked"} }

func TestRedactQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"a=1":                             "a=1",
		"a=1&token=x&b=2":                 "a=1&token=REDACTED&b=2",
		"sig=abc":                         "sig=REDACTED",
		"Api_Key=1&x":                     "Api_Key=REDACTED&x",
		"a=1&password=":                   "a=1&password=",
		"q=go&X-Goog-Signature=zz":        "q=go&X-Goog-Signature=REDACTED",
		"access%5Ftoken=s":                "access%5Ftoken=REDACTED",
		"a&&session=1":                    "a&&session=REDACTED",
		"AWSAccessKeyId=AK&Expires=1&q=x": "AWSAccessKeyId=REDACTED&Expires=1&q=x",
	} {
		if got := RedactQuery(in); got != want {
			t.Errorf("RedactQuery(%q): got %q, want %q", in, got, want)
		}
	}
}

// TestHeaderCarrier proves the carrier reads a key in any letter case (NATS headers as
// written by other producers, net/http's canonical keys), writes the propagator's key
// as given, and replaces a key the map holds in another case instead of adding a
// second one.
func TestHeaderCarrier(t *testing.T) {
	c := HeaderCarrier{"Traceparent": {"canonical"}, "X-Other": {"o"}}
	if got := c.Get("traceparent"); got != "canonical" {
		t.Errorf("Get(traceparent): got %q, want the canonical key's value", got)
	}
	if got := c.Get("x-other"); got != "o" {
		t.Errorf("Get(x-other): got %q, want o", got)
	}
	if got := c.Get("missing"); got != "" {
		t.Errorf("Get(missing): got %q, want empty", got)
	}
	c.Set("traceparent", "new")
	if len(c) != 2 || c["Traceparent"][0] != "new" {
		t.Errorf("Set over a canonical key: got %v, want it replaced in place", c)
	}
	n := HeaderCarrier{}
	n.Set("baggage", "k=v")
	if got := n["baggage"]; len(got) != 1 || got[0] != "k=v" {
		t.Errorf("Set on an empty map: got %v, want the key as given", n)
	}
	if got := HeaderCarrier(nil).Get("traceparent"); got != "" {
		t.Errorf("nil carrier: got %q, want empty", got)
	}

	// Round trip through the W3C propagators, as a message transport does it.
	tp, _ := newTP(t)
	ctx, span := tp.Tracer("t").Start(context.Background(), "send")
	defer span.End()
	h := map[string][]string{}
	DefaultPropagator().Inject(ctx, HeaderCarrier(h))
	got := trace.SpanContextFromContext(ExtractHeaders(context.Background(), DefaultPropagator(), h))
	if got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() || !got.IsRemote() {
		t.Errorf("round trip: got %v, want the sender's span as a remote parent", got)
	}
}
