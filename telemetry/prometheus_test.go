package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/internal/testenv"
)

// requireTool returns the path of an outside program from the environment variable
// name, or from PATH when CI requires servers; otherwise the test is skipped.
func requireTool(t *testing.T, name, program string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
		p, err := exec.LookPath(program)
		if err != nil {
			t.Fatalf("%s is not set, %s is not in PATH, and PAVED_TEST_REQUIRE_SERVERS=1", name, program)
		}
		return p
	}
	t.Skipf("%s is not set; set it to the %s binary to run this test", name, program)
	return ""
}

// freePort returns a free loopback port in Paved's telemetry test range.
func freePort(t *testing.T, from, to int) string {
	t.Helper()
	for p := from; p <= to; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return fmt.Sprint(p)
		}
	}
	t.Fatalf("no free port in 127.0.0.1:%d-%d", from, to)
	return ""
}

// promService is a service as users run it: a public server with the HTTP middleware
// and an admin server with /metrics from NewRegistry.
func promService(t *testing.T) (public, admin *httptest.Server) {
	t.Helper()
	reg := NewRegistry(BuildInfo{Service: "prom-it", Version: "1.2.3", Revision: "abc123"})
	m, err := NewHTTPServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider() // sampled spans, no exporter: exemplars carry their ids
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") })
	public = httptest.NewServer(HTTPServerMiddleware(HTTPServerOptions{TracerProvider: tp, Metrics: m})(mux))
	t.Cleanup(public.Close)
	adminMux := http.NewServeMux()
	adminMux.Handle("GET /metrics", MetricsHandler(reg))
	admin = httptest.NewServer(adminMux)
	t.Cleanup(admin.Close)
	return public, admin
}

// TestPrometheusScrapesService starts a real Prometheus on loopback scraping a service's
// admin /metrics and finds up == 1, build_info with the version, the request-duration
// histogram for the route with the right labels, and a trace-id exemplar on it.
func TestPrometheusScrapesService(t *testing.T) {
	bin := requireTool(t, "PAVED_TEST_PROMETHEUS", "prometheus")
	public, admin := promService(t)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	get := func(u string) {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for i := range 5 {
		get(fmt.Sprintf("%s/items/%d", public.URL, i))
	}

	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: paved
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(admin.URL, "http://"))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t, 23310, 23399)
	var log bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port,
		"--enable-feature=exemplar-storage",
	)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	}()
	api := "http://127.0.0.1:" + port + "/api/v1/"

	queries := map[string]string{
		"up":         `up{job="paved"} == 1`,
		"build_info": `build_info{service="prom-it",version="1.2.3",revision="abc123"}`,
		"histogram":  `http_server_request_duration_seconds_count{method="GET",route="/items/{id}",status_code="200"} == 5`,
	}
	deadline := time.Now().Add(20 * time.Second) // Debian's 2.42 adds targets every 5 s
	for name, q := range queries {
		for {
			n, err := promQuery(client, api, q)
			if err == nil && n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: got %d results (error %v) for %s, want at least 1", name, n, err, q)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// The exemplar went through OpenMetrics into Prometheus's exemplar storage.
	for {
		body, err := promGet(client, api+"query_exemplars?query="+url.QueryEscape(`http_server_request_duration_seconds_bucket{route="/items/{id}"}`)+
			fmt.Sprintf("&start=%d&end=%d", time.Now().Add(-time.Hour).Unix(), time.Now().Add(time.Minute).Unix()))
		if err == nil && strings.Contains(body, `"trace_id"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got exemplars %s (error %v), want one with a trace_id", body, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func promGet(client *http.Client, u string) (string, error) {
	resp, err := client.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

// promQuery runs an instant query and returns the number of series in the result.
func promQuery(client *http.Client, api, q string) (int, error) {
	body, err := promGet(client, api+"query?query="+url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return 0, err
	}
	return len(out.Data.Result), nil
}

// TestPromtoolCheckMetrics runs `promtool check metrics` on a service's /metrics output
// in both exposition formats it serves.
func TestPromtoolCheckMetrics(t *testing.T) {
	public, admin := promService(t)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/items/1", "/nowhere"} {
		resp, err := client.Get(public.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := client.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"build_info{", MetricHTTPServerDuration + "_bucket{", `route="unmatched"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("got /metrics without %s, want it", want)
		}
	}
	testenv.Promtool(t, string(body))
}
