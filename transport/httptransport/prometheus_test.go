package httptransport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// promService is a service as users run it: a public server behind Stack with a body
// limit and an admin server with /metrics from telemetry.NewRegistry and target_info.
func promService(t *testing.T) (public, admin *httptest.Server) {
	t.Helper()
	reg := telemetry.NewRegistry(telemetry.BuildInfo{Service: "prom-it", Version: "1.2.3", Revision: "abc123"})
	res, err := telemetry.NewResource(context.Background(), telemetry.TracingConfig{}, telemetry.ResourceInfo{ServiceName: "prom-it", Version: "1.2.3", Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(telemetry.NewTargetInfoCollector(res))
	tp := sdktrace.NewTracerProvider() // sampled spans, no exporter: exemplars carry their ids
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") })
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	h, err := httptransport.Stack(mux, httptransport.StackOptions{TracerProvider: tp, Registerer: reg, MaxBodyBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	public = httptest.NewServer(h)
	t.Cleanup(public.Close)
	adminMux := http.NewServeMux()
	adminMux.Handle("GET /metrics", telemetry.MetricsHandler(reg))
	admin = httptest.NewServer(adminMux)
	t.Cleanup(admin.Close)
	return public, admin
}

// sendRequests sends 5 GETs of a route, a GET of an unknown path, a DELETE of a GET
// route (405) and an oversized POST (413).
func sendRequests(t *testing.T, base string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	do := func(method, path, body string, want int) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: got status %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	for i := range 5 {
		do("GET", fmt.Sprintf("/items/%d", i), "", 200)
	}
	do("GET", "/nowhere", "", 404)
	do("DELETE", "/items/1", "", 405)
	do("POST", "/items", strings.Repeat("x", 100), 413)
}

// TestPrometheusScrapesService starts a real Prometheus on loopback scraping a service's
// admin /metrics, as the catalog's service discovery hands it a target (with a version
// label of its own), and finds up == 1, build_info with service_version (not turned
// into exported_version), target_info with the resource, the request-duration
// histogram with the semantic conventions' label names (the 405 and the 413 under
// their route), and a trace-id exemplar on it.
func TestPrometheusScrapesService(t *testing.T) {
	public, admin := promService(t)
	prom := testenv.StartPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: paved
    static_configs:
      - targets: [%q]
        labels: {component: prom-it, version: "9.9.9", instance_id: prom-it-1}
`, strings.TrimPrefix(admin.URL, "http://")))
	sendRequests(t, public.URL)

	for _, q := range []string{
		`up{job="paved"} == 1`,
		`build_info{service_name="prom-it",service_version="1.2.3",revision="abc123",version="9.9.9"}`,
		`target_info{service_name="prom-it",service_version="1.2.3",deployment_environment_name="staging",telemetry_sdk_language="go"}`,
		`http_server_request_duration_seconds_count{http_request_method="GET",http_route="/items/{id}",http_response_status_code="200",url_scheme="http",error_type=""} == 5`,
		`http_server_request_duration_seconds_count{http_request_method="DELETE",http_route="/items/{id}",http_response_status_code="405"} == 1`,
		`http_server_request_duration_seconds_count{http_request_method="POST",http_route="/items",http_response_status_code="413"} == 1`,
	} {
		prom.WaitFor(t, q, 20*time.Second)
	}
	// (client_golang's go_info{version} does collide with it: not ours to rename.)
	for _, q := range []string{`build_info{exported_version!=""}`, `target_info{exported_version!=""}`, `{__name__=~"build_info|target_info|http_.*",exported_instance_id!=""}`} {
		if res, err := prom.Query(q); err != nil || len(res) != 0 {
			t.Errorf("query %s: got %d series (error %v), want none: a label collided with a target label", q, len(res), err)
		}
	}
	// The exemplar went through OpenMetrics into Prometheus's exemplar storage.
	deadline := time.Now().Add(20 * time.Second)
	for {
		body, err := prom.Exemplars(`http_server_request_duration_seconds_bucket{http_route="/items/{id}"}`)
		if err == nil && strings.Contains(body, `"trace_id"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got exemplars %s (error %v), want one with a trace_id", body, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPromtoolCheckMetrics runs `promtool check metrics` on a service's /metrics output
// and finds the semantic conventions' label names in it.
func TestPromtoolCheckMetrics(t *testing.T) {
	public, admin := promService(t)
	sendRequests(t, public.URL)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`build_info{goversion=`, `service_version="1.2.3"`, "target_info{", httptransport.MetricServerDuration + "_bucket{",
		`http_route="unmatched"`, `http_request_method="GET"`, `http_response_status_code="405"`, `url_scheme="http"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("got /metrics without %s, want it", want)
		}
	}
	testenv.Promtool(t, string(body))
}
