package httptransport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// jaegerTrace is the part of Jaeger's /api/traces answer the test reads.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		References    []struct {
			RefType string `json:"refType"`
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// TestTraceAcrossTwoServicesInJaeger sends one request through two services over real
// HTTP on loopback, both exporting OTLP to a real Jaeger, and reads the trace back from
// Jaeger's query API: one trace holds A's server, endpoint and client spans and B's
// server span, each the child of the one before, under the right service names, with
// the semantic conventions' span names (the client span is "GET", not "HTTP GET").
func TestTraceAcrossTwoServicesInJaeger(t *testing.T) {
	t.Run("http/protobuf", func(t *testing.T) {
		traceAcrossTwoServices(t, testenv.Require(t, "PAVED_TEST_OTLP_ENDPOINT", ""), "http/protobuf")
	})
	// OTLP/gRPC to Jaeger: telemetry/otlpgrpc's TestExportToJaeger.
}

func traceAcrossTwoServices(t *testing.T, endpoint, protocol string) {
	query := testenv.Require(t, "PAVED_TEST_JAEGER_QUERY", "")
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	nameA, nameB := "paved-it-a-"+suffix, "paved-it-b-"+suffix

	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
	cfg, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	newTracing := func(name string) *telemetry.Tracing {
		tr, err := telemetry.NewTracing(context.Background(), cfg, telemetry.ResourceInfo{ServiceName: name, Version: "1.0.0", Environment: "development"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Exporter() != "otlp/"+protocol {
			t.Fatalf("got exporter %q, want otlp/%s", tr.Exporter(), protocol)
		}
		return tr
	}
	trA, trB := newTracing(nameA), newTracing(nameB)

	// Service B: a plain handler behind the lean middleware.
	muxB := http.NewServeMux()
	muxB.HandleFunc("GET /b/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b:"+r.PathValue("id")) })
	srvB := httptest.NewServer(httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: trB.TracerProvider(), Propagator: trB.Propagator()})(muxB))
	defer srvB.Close()

	// Service A: a go-kit endpoint with the tracing middleware that calls B through an
	// instrumented client.
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	clientA := &http.Client{Transport: httptransport.ClientTelemetry(transport, httptransport.ClientTelemetryOptions{TracerProvider: trA.TracerProvider(), Propagator: trA.Propagator()})}
	callB := func(ctx context.Context, _ any) (any, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", srvB.URL+"/b/7", nil)
		if err != nil {
			return nil, err
		}
		resp, err := clientA.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	kitServer := kithttp.NewServer(
		httptransport.TraceEndpoint(trA.TracerProvider(), "a.callB")(callB),
		kithttp.NopRequestDecoder,
		func(_ context.Context, w http.ResponseWriter, resp any) error {
			_, err := io.WriteString(w, resp.(string))
			return err
		},
	)
	muxA := http.NewServeMux()
	muxA.Handle("GET /a", kitServer)
	srvA := httptest.NewServer(httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: trA.TracerProvider(), Propagator: trA.Propagator()})(muxA))
	defer srvA.Close()

	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srvA.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "b:7" {
		t.Fatalf("got body %q, want b:7", body)
	}
	for _, tr := range []*telemetry.Tracing{trA, trB} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := tr.Shutdown(ctx); err != nil {
			t.Fatalf("got Shutdown error %v, want nil", err)
		}
		cancel()
	}

	// Read the trace back; Jaeger stores spans shortly after receiving them.
	var tr jaegerTrace
	deadline := time.Now().Add(20 * time.Second)
	for {
		traces := fetchJaegerTraces(t, client, query, nameA)
		if len(traces) > 1 {
			t.Fatalf("got %d traces for %s, want 1", len(traces), nameA)
		}
		if len(traces) == 1 && len(traces[0].Spans) >= 4 {
			tr = traces[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got traces %+v after 20s, want one trace with 4 spans", traces)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(tr.Spans) != 4 {
		t.Fatalf("got %d spans, want 4", len(tr.Spans))
	}
	type node struct {
		id, parent, service, kind, name string
		tags                            map[string]string
	}
	byKey := map[string]node{}
	for _, s := range tr.Spans {
		n := node{id: s.SpanID, service: tr.Processes[s.ProcessID].ServiceName, name: s.OperationName, tags: map[string]string{}}
		for _, ref := range s.References {
			if ref.RefType == "CHILD_OF" && ref.TraceID == tr.TraceID {
				n.parent = ref.SpanID
			}
		}
		n.kind = "internal"
		for _, tag := range s.Tags {
			n.tags[tag.Key] = fmt.Sprint(tag.Value)
			if tag.Key == "span.kind" {
				n.kind = fmt.Sprint(tag.Value)
			}
		}
		byKey[n.service+"/"+n.kind] = n
	}
	chain := []struct{ key, name string }{
		{nameA + "/server", "GET /a"},
		{nameA + "/internal", "a.callB"},
		{nameA + "/client", "GET"},
		{nameB + "/server", "GET /b/{id}"},
	}
	parent := ""
	for _, c := range chain {
		n, ok := byKey[c.key]
		if !ok {
			t.Fatalf("got spans %+v, want one for %s", byKey, c.key)
		}
		if n.parent != parent {
			t.Errorf("%s: got parent %q, want %q", c.key, n.parent, parent)
		}
		if c.name != "" && n.name != c.name {
			t.Errorf("%s: got name %q, want %q", c.key, n.name, c.name)
		}
		parent = n.id
	}
	if c := byKey[nameA+"/client"]; c.tags["server.address"] != "127.0.0.1" || c.tags["http.response.status_code"] != "200" {
		t.Errorf("client span: got tags %v, want server.address 127.0.0.1 and status 200", c.tags)
	}
	if b := byKey[nameB+"/server"]; b.tags["client.address"] != "127.0.0.1" || b.tags["http.route"] != "/b/{id}" {
		t.Errorf("B's server span: got tags %v, want client.address 127.0.0.1 and http.route /b/{id}", b.tags)
	}
}

func fetchJaegerTraces(t *testing.T, client *http.Client, query, service string) []jaegerTrace {
	t.Helper()
	resp, err := client.Get(query + "/api/traces?limit=20&lookback=1h&service=" + url.QueryEscape(service))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []jaegerTrace `json:"data"`
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil // service not known yet
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d error %v from Jaeger, want 200 with JSON", resp.StatusCode, err)
	}
	return out.Data
}
