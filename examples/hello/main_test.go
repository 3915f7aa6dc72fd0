package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/internal/testenv"
)

// start runs the built example on free loopback ports and returns its addresses.
func start(t *testing.T, env ...string) (p *testenv.Process, httpAddr, adminAddr string) {
	t.Helper()
	p = testenv.Start(t, testenv.Build(t, "."), append([]string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s"}, env...)...)
	return p, p.HTTPAddr, p.AdminAddr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBuiltBinary builds the example as a user would and checks both ports.
func TestBuiltBinary(t *testing.T) {
	cmd, httpAddr, adminAddr := start(t, "SERVICE_VERSION=1.4.2")
	if code, body := get(t, "http://"+httpAddr+"/hello?name=Ada"); code != 200 || body != "Hello, Ada!\n" {
		t.Errorf("/hello: got %d %q, want 200 %q", code, body, "Hello, Ada!\n")
	}
	if code, _ := get(t, "http://"+adminAddr+"/readyz"); code != 200 {
		t.Errorf("/readyz: got %d, want 200", code)
	}
	if _, body := get(t, "http://"+adminAddr+"/metrics"); !strings.Contains(body, `build_info{goversion="go1.`) ||
		!strings.Contains(body, `service_name="hello",service_version="1.4.2"`) || !strings.Contains(body, "go_memstats_alloc_bytes") {
		t.Errorf("/metrics lacks build_info or Go runtime metrics:\n%.800s", body)
	}
	var info struct{ Name, Version, Owner string }
	_, body := get(t, "http://"+adminAddr+"/info")
	if err := json.Unmarshal([]byte(body), &info); err != nil || info.Version != "1.4.2" || info.Name != "hello" || info.Owner == "" {
		t.Errorf("/info: got %+v (%v), want hello 1.4.2 with an owner", info, err)
	}
	var rep struct {
		Compliant bool
		Score     int
	}
	_, body = get(t, "http://"+adminAddr+"/compliance?format=json")
	if err := json.Unmarshal([]byte(body), &rep); err != nil || !rep.Compliant || rep.Score != 100 {
		t.Errorf("/compliance: got %+v (%v), want compliant with score 100:\n%s", rep, err, body)
	}
	cmd.Stop(t)
}

// TestPrometheusScrapesHello points a real Prometheus at the running example's admin
// /metrics and finds it up, its build_info and the request histogram by route pattern.
func TestPrometheusScrapesHello(t *testing.T) {
	_, httpAddr, adminAddr := start(t, "SERVICE_VERSION=2.0.1")
	prom := testenv.StartPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: hello
    static_configs:
      - targets: [%q]
`, adminAddr))
	for i := range 3 {
		get(t, fmt.Sprintf("http://%s/hello?name=n%d", httpAddr, i))
	}
	prom.WaitFor(t, `up{job="hello"} == 1`, 20*time.Second)
	prom.WaitFor(t, `build_info{service_name="hello",service_version="2.0.1"}`, 20*time.Second)
	prom.WaitFor(t, `target_info{service_name="hello",service_version="2.0.1"}`, 20*time.Second)
	prom.WaitFor(t, `http_server_request_duration_seconds_count{http_request_method="GET",http_route="/hello",http_response_status_code="200",url_scheme="http"} == 3`, 20*time.Second)
	// The raw paths never became labels.
	if res, err := prom.Query(`http_server_request_duration_seconds_count{http_route=~".*n1.*"}`); err != nil || len(res) != 0 {
		t.Errorf("a raw path became a label: %v %v", res, err)
	}
}

// TestPromtoolCheckMetrics lints the running example's /metrics with promtool.
func TestPromtoolCheckMetrics(t *testing.T) {
	_, httpAddr, adminAddr := start(t)
	get(t, "http://"+httpAddr+"/hello")
	_, body := get(t, "http://"+adminAddr+"/metrics")
	testenv.Promtool(t, body)
}
