package httptransport

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paved-road/paved/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			http.Error(w, "no flusher", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "a")
		if err := http.NewResponseController(w).Flush(); err != nil {
			panic(err)
		}
	})
	return mux
}

type serverFixture struct {
	rec     *tracetest.SpanRecorder
	reg     *prometheus.Registry
	metrics *ServerMetrics
	handler http.Handler
}

func newServerFixture(t *testing.T) *serverFixture {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	reg := prometheus.NewRegistry()
	m, err := NewServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := testMux()
	h := ServerTelemetry(ServerTelemetryOptions{TracerProvider: tp, Metrics: m, Router: mux})(mux)
	return &serverFixture{rec: rec, reg: reg, metrics: m, handler: h}
}

func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func TestServerTelemetry(t *testing.T) {
	f := newServerFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	tests := []struct {
		method, path string
		wantStatus   int
		wantName     string
		wantRoute    string
		wantMethod   string
		wantError    bool
	}{
		{"GET", "/items/42", 200, "GET /items/{id}", "/items/{id}", "GET", false},
		{"HEAD", "/items/42", 200, "HEAD /items/{id}", "/items/{id}", "HEAD", false},
		{"POST", "/items", 201, "POST /items", "/items", "POST", false},
		{"GET", "/fail", 500, "GET /fail", "/fail", "GET", true},
		{"GET", "/stream", 200, "GET /stream", "/stream", "GET", false},
		{"GET", "/nowhere", 404, "GET", RouteUnmatched, "GET", false},
		{"BREW", "/items/1", 405, "HTTP /items/{id}", "/items/{id}", MethodOther, false},
		{"DELETE", "/items", 405, "DELETE /items", "/items", "DELETE", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			req.Header.Set("Traceparent", remoteTraceparent)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			spans := f.rec.Ended()
			s := spans[len(spans)-1]
			if s.Name() != tt.wantName {
				t.Errorf("got span name %q, want %q", s.Name(), tt.wantName)
			}
			if s.SpanKind() != trace.SpanKindServer {
				t.Errorf("got kind %v, want server", s.SpanKind())
			}
			if got := s.Parent().SpanID().String(); got != "00f067aa0ba902b7" || !s.Parent().IsRemote() {
				t.Errorf("got parent %s (remote %v), want the caller's span 00f067aa0ba902b7", got, s.Parent().IsRemote())
			}
			if got := s.SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("got trace %s, want the caller's", got)
			}
			a := attrs(s)
			if a["http.response.status_code"] != fmt.Sprint(tt.wantStatus) || a["http.request.method"] != tt.wantMethod {
				t.Errorf("got attributes %v, want status %d method %s", a, tt.wantStatus, tt.wantMethod)
			}
			if tt.wantRoute != RouteUnmatched && a["http.route"] != tt.wantRoute {
				t.Errorf("got http.route %q, want %q", a["http.route"], tt.wantRoute)
			}
			if got := s.Status().Code == codes.Error; got != tt.wantError {
				t.Errorf("got error status %v, want %v", got, tt.wantError)
			}
			labels := serverLabels(tt.wantMethod, tt.wantRoute, tt.wantStatus)
			if got := histCount(t, f.reg, MetricServerDuration, labels); got != 1 {
				t.Errorf("got %d observations for %v, want 1", got, labels)
			}
		})
	}
}

// serverLabels are the labels of a server observation: error_type is the status of a
// 5xx, url_scheme http (the tests serve no TLS).
func serverLabels(method, route string, status int) map[string]string {
	l := map[string]string{"http_request_method": method, "http_route": route, "http_response_status_code": fmt.Sprint(status), "error_type": "", "url_scheme": "http"}
	if status >= 500 {
		l["error_type"] = fmt.Sprint(status)
	}
	return l
}

// histCount returns the sample count of the histogram series name{labels} in g.
func histCount(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

func TestServerTelemetryPanic(t *testing.T) {
	f := newServerFixture(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := ServerTelemetry(ServerTelemetryOptions{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.rec)), Metrics: f.metrics})(mux)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("got recover() %v, want the handler's panic to go on up", r)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/panic", nil))
	}()
	spans := f.rec.Ended()
	if len(spans) != 1 || spans[0].Status().Code != codes.Error || spans[0].Name() != "GET /panic" {
		t.Fatalf("got spans %v, want one ended error span named GET /panic", spans)
	}
	if got := histCount(t, f.reg, MetricServerDuration, serverLabels("GET", "/panic", 500)); got != 1 {
		t.Errorf("got %d observations, want 1 with status 500", got)
	}
}

// TestServerTelemetryExemplars proves that sampled requests leave their trace id as an
// exemplar, served in OpenMetrics when the scraper asks for it, and only then.
func TestServerTelemetryExemplars(t *testing.T) {
	f := newServerFixture(t)
	req := httptest.NewRequest("GET", "/items/7", nil)
	req.Header.Set("Traceparent", remoteTraceparent)
	f.handler.ServeHTTP(httptest.NewRecorder(), req)

	metricsSrv := httptest.NewServer(telemetry.MetricsHandler(f.reg))
	defer metricsSrv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	scrape := func(accept string) (string, string) {
		req, _ := http.NewRequest("GET", metricsSrv.URL, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Type"), string(b)
	}
	traceID := "4bf92f3577b34da6a3ce929d0e0e4736"
	ct, body := scrape("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("got content type %q, want OpenMetrics", ct)
	}
	if !strings.Contains(body, `# {trace_id="`+traceID+`"}`) {
		t.Errorf("got body without exemplar for trace %s:\n%s", traceID, grepLines(body, MetricServerDuration))
	}
	ct, body = scrape("")
	if !strings.HasPrefix(ct, "text/plain") || strings.Contains(body, traceID) {
		t.Errorf("got content type %q and exemplar present %v, want text format without exemplars", ct, strings.Contains(body, traceID))
	}

	// An unsampled request leaves no exemplar.
	f2 := newServerFixture(t)
	req = httptest.NewRequest("GET", "/items/7", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	h := ServerTelemetry(ServerTelemetryOptions{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))), Metrics: f2.metrics})(testMux())
	h.ServeHTTP(httptest.NewRecorder(), req)
	var sb strings.Builder
	mfs, _ := f2.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				if b.GetExemplar() != nil {
					sb.WriteString(b.GetExemplar().String())
				}
			}
		}
	}
	if sb.Len() != 0 {
		t.Errorf("got exemplars %s, want none for an unsampled request", sb.String())
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServerTelemetryCardinalityBounded sends 100,000 requests with random paths, methods and
// headers and proves the series count stays within routes x methods x status codes.
func TestServerTelemetryCardinalityBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := NewServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	handler := ServerTelemetry(ServerTelemetryOptions{TracerProvider: tp, Metrics: metrics})(testMux())
	rng := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
	randStr := func(n int) string {
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%"
		b := make([]byte, 1+rng.IntN(n))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const n = 100_000
	for range n {
		method := methods[rng.IntN(len(methods))]
		if rng.IntN(4) == 0 {
			method = strings.ToUpper(randStr(8)) // invented methods
		}
		var path string
		switch rng.IntN(3) {
		case 0:
			path = "/items/" + randStr(12)
		case 1:
			path = "/" + randStr(20) + "/" + randStr(5)
		default:
			path = "/items"
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Method = method
		req.URL.Path = path
		req.Header.Set("Traceparent", randStr(55))
		req.Header.Set("X-"+randStr(6), randStr(10))
		req.Header.Set("Baggage", randStr(30)+"="+randStr(5))
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]bool{"http_request_method": {}, "http_route": {}, "http_response_status_code": {}, "error_type": {}, "url_scheme": {}}
	series, observed := 0, uint64(0)
	for _, mf := range mfs {
		if mf.GetName() != MetricServerDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			series++
			observed += m.GetHistogram().GetSampleCount()
			for _, lp := range m.GetLabel() {
				values[lp.GetName()][lp.GetValue()] = true
			}
		}
	}
	if observed != n {
		t.Errorf("got %d observations, want %d", observed, n)
	}
	routes := map[string]bool{"/items/{id}": true, "/items": true, "/fail": true, "/stream": true, RouteUnmatched: true}
	for r := range values["http_route"] {
		if !routes[r] {
			t.Errorf("got route label %q, want only patterns or %q", r, RouteUnmatched)
		}
	}
	for m := range values["http_request_method"] {
		if NormalizeMethod(m) != m {
			t.Errorf("got method label %q, want a standard method or %s", m, MethodOther)
		}
	}
	bound := len(routes) * 10 * len(values["http_response_status_code"])
	if series > bound || len(values["http_response_status_code"]) > 6 {
		t.Errorf("got %d series and status codes %v, want at most %d", series, values["http_response_status_code"], bound)
	}
	t.Logf("%d requests -> %d series (methods %d, routes %d, status codes %v)", n, series, len(values["http_request_method"]), len(values["http_route"]), values["http_response_status_code"])
}

// TestServerTelemetryRootNeverSampled proves that with a provider declared never to
// sample a root (telemetry.DeclareRootNeverSampled) a request that
// cannot be sampled starts no span yet keeps the caller's trace context, that a sampled
// caller still gets its server span (parent-based sampling), and that metrics are
// recorded either way.
func TestServerTelemetryRootNeverSampled(t *testing.T) {
	const unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	tests := []struct {
		name, traceparent string
		wantSpan          bool
		wantTrace         string // trace id the handler sees; "" means none
		wantSpanID        string // span id the handler sees when no span was started
	}{
		{"no trace context", "", false, "", ""},
		{"unsampled caller", unsampled, false, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"sampled caller", remoteTraceparent, true, "4bf92f3577b34da6a3ce929d0e0e4736", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())), sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			reg := prometheus.NewRegistry()
			m, err := NewServerMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			var seen trace.SpanContext
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { seen = trace.SpanContextFromContext(r.Context()) })
			h := ServerTelemetry(ServerTelemetryOptions{TracerProvider: telemetry.DeclareRootNeverSampled(tp), Metrics: m})(mux)
			req := httptest.NewRequest("GET", "/items/1", nil)
			if tt.traceparent != "" {
				req.Header.Set("Traceparent", tt.traceparent)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			spans := rec.Ended()
			if got := len(spans) == 1; got != tt.wantSpan {
				t.Fatalf("got %d spans, want span %v", len(spans), tt.wantSpan)
			}
			gotTrace := ""
			if seen.TraceID().IsValid() {
				gotTrace = seen.TraceID().String()
			}
			if gotTrace != tt.wantTrace {
				t.Errorf("got trace id %q in the handler, want %q", gotTrace, tt.wantTrace)
			}
			if tt.wantSpan {
				if got := spans[0].Parent().SpanID().String(); got != "00f067aa0ba902b7" || spans[0].Name() != "GET /items/{id}" {
					t.Errorf("got span %q with parent %s, want GET /items/{id} child of the caller's 00f067aa0ba902b7", spans[0].Name(), got)
				}
				if seen.SpanID() != spans[0].SpanContext().SpanID() {
					t.Errorf("got span id %s in the handler, want the server span's %s", seen.SpanID(), spans[0].SpanContext().SpanID())
				}
			} else if tt.wantSpanID != "" && (seen.SpanID().String() != tt.wantSpanID || !seen.IsRemote()) {
				t.Errorf("got span id %s (remote %v) in the handler, want the caller's %s", seen.SpanID(), seen.IsRemote(), tt.wantSpanID)
			}
			if got := histCount(t, reg, MetricServerDuration, serverLabels("GET", "/items/{id}", 200)); got != 1 {
				t.Errorf("got %d observations, want 1", got)
			}
		})
	}
}

// TestServerTelemetryRequestContext proves the hook's context reaches the handler along with
// the server span, may set response headers, and does not hide the route pattern.
func TestServerTelemetryRequestContext(t *testing.T) {
	f := newServerFixture(t)
	type key struct{}
	var seenValue any
	var seenSpan trace.SpanContext
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		seenValue, seenSpan = r.Context().Value(key{}), trace.SpanContextFromContext(r.Context())
	})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	st := newServerTelemetry(ServerTelemetryOptions{TracerProvider: tp, Metrics: f.metrics},
		func(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
			w.Header().Set("X-Hook", r.URL.Path)
			return context.WithValue(ctx, key{}, "v")
		})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { st.serve(mux, w, r) })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/items/3", nil))
	if seenValue != "v" {
		t.Errorf("got value %v in the handler, want v", seenValue)
	}
	if got := w.Header().Get("X-Hook"); got != "/items/3" {
		t.Errorf("got X-Hook %q, want /items/3", got)
	}
	spans := f.rec.Ended()
	if len(spans) != 1 || spans[0].Name() != "GET /items/{id}" || spans[0].SpanContext().SpanID() != seenSpan.SpanID() {
		t.Fatalf("got spans %v and span %v in the handler, want one span GET /items/{id} seen by the handler", spans, seenSpan.SpanID())
	}
	if got := histCount(t, f.reg, MetricServerDuration, serverLabels("GET", "/items/{id}", 200)); got != 1 {
		t.Errorf("got %d observations, want 1", got)
	}
}

func TestSpanName(t *testing.T) {
	tests := []struct{ method, pattern, want string }{
		{"GET", "GET /items/{id}", "GET /items/{id}"},
		{"HEAD", "GET /items/{id}", "HEAD /items/{id}"},
		{"POST", "/items", "POST /items"},
		{"GET", "GET  /spaced", "GET /spaced"},
		{"GET", "GET example.com/x", "GET example.com/x"},
		{MethodOther, "/any", "HTTP /any"},
	}
	for _, tt := range tests {
		if got := spanName(tt.method, tt.pattern, RouteFromPattern(tt.pattern)); got != tt.want {
			t.Errorf("spanName(%q, %q): got %q, want %q", tt.method, tt.pattern, got, tt.want)
		}
	}
}

const remoteTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestServerTelemetryAttributes proves the server span carries the semantic
// conventions' addresses, the query with secrets redacted and error.type on a 5xx.
func TestServerTelemetryAttributes(t *testing.T) {
	f := newServerFixture(t)
	req := httptest.NewRequest("GET", "http://shop.example:8443/fail?q=shoes&access_token=abc", nil)
	req.RemoteAddr = "[2001:db8::7]:51000"
	f.handler.ServeHTTP(httptest.NewRecorder(), req)
	a := attrs(f.rec.Ended()[0])
	want := map[string]string{"server.address": "shop.example", "server.port": "8443", "client.address": "2001:db8::7",
		"url.query": "q=shoes&access_token=REDACTED", "error.type": "500", "url.scheme": "http"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("attribute %s: got %q, want %q", k, a[k], v)
		}
	}
}

// TestStackRouteOfEarlyAnswers proves a 413 answered by the body limit before the mux
// routed the request carries the route of its path in metrics and span, as 405s do.
func TestStackRouteOfEarlyAnswers(t *testing.T) {
	tp, rec := newTP(t)
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	h, err := Stack(mux, StackOptions{TracerProvider: tp, Registerer: reg, MaxBodyBytes: 4})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/items", strings.NewReader("far too long"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("got status %d, want 413", w.Code)
	}
	if got := histCount(t, reg, MetricServerDuration, serverLabels("POST", "/items", 413)); got != 1 {
		t.Errorf("got %d observations with route /items and 413, want 1", got)
	}
	if s := rec.Ended(); len(s) != 1 || s[0].Name() != "POST /items" {
		t.Errorf("got spans %v, want one named POST /items", s)
	}
}

func TestSplitHostPort(t *testing.T) {
	for in, want := range map[string][2]string{
		"": {"", ""}, "host": {"host", ""}, "host:80": {"host", "80"}, "[::1]:9": {"::1", "9"},
		"[::1]": {"::1", ""}, "::1": {"::1", ""}, "1.2.3.4:5": {"1.2.3.4", "5"},
	} {
		if h, p := splitHostPort(in); h != want[0] || p != want[1] {
			t.Errorf("splitHostPort(%q): got %q %q, want %q %q", in, h, p, want[0], want[1])
		}
	}
}
