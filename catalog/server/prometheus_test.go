package server_test

import (
	"context"
	"encoding/json"
	"fmt"
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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// prometheusBin returns the Prometheus binary named by PAVED_TEST_PROMETHEUS, skipping
// the test when it is unset unless PAVED_TEST_REQUIRE_SERVERS=1.
func prometheusBin(t *testing.T) string {
	bin := os.Getenv("PAVED_TEST_PROMETHEUS")
	if bin == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_PROMETHEUS is unset and PAVED_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("PAVED_TEST_PROMETHEUS is unset: set it to a prometheus binary, such as /usr/bin/prometheus")
	}
	return bin
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// A real Prometheus, configured with http_sd_configs pointing at the catalog's
// /api/v1/targets, discovers a registered service and scrapes it: up == 1, with the
// catalog's labels; an instance failing readiness is scraped too (up == 1), labelled
// health="critical".
func TestPrometheusDiscoversAndScrapes(t *testing.T) {
	bin := prometheusBin(t)
	e := newEnv(t)

	// The service: a real admin server with /metrics from its own registry.
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "orders_ready", Help: "1 when ready."}, func() float64 { return 1 }))
	svc := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer svc.Close()
	in := storetest.Instance("orders", "i-1")
	in.Addresses.Admin = strings.TrimPrefix(svc.URL, "http://")
	in.TTLSeconds = 3600
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-1", tokenA, in), 200)
	// A second instance fails readiness: it is still scraped, labelled health="critical".
	sick := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer sick.Close()
	in2 := storetest.Instance("orders", "i-2")
	in2.Addresses.Admin = strings.TrimPrefix(sick.URL, "http://")
	in2.TTLSeconds = 3600
	in2.Status = catalog.StatusCritical
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-2", tokenA, in2), 200)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: paved
    http_sd_configs:
      - url: %s/api/v1/targets
        refresh_interval: 1s
`, e.url)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
	)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	query := "http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(`up{job="paved",component="orders",instance_id="i-1"}`)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var last string
	sickQuery := "http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(`up{job="paved",instance_id="i-2"}`)
	for ctx.Err() == nil {
		labels, value, err := queryOne(ctx, query)
		sickLabels, sickValue, sickErr := queryOne(ctx, sickQuery)
		if err == nil && value == "1" && sickErr == nil && sickValue == "1" {
			if labels["owner"] != "team-a" || labels["instance"] != in.Addresses.Admin || labels["instance_id"] != "i-1" || labels["tier"] != "2" || labels["health"] != "passing" {
				t.Fatalf("got labels %v, want owner team-a, instance %s, instance_id i-1, tier 2, health passing", labels, in.Addresses.Admin)
			}
			if sickLabels["health"] != "critical" || sickLabels["instance"] != in2.Addresses.Admin {
				t.Fatalf("got labels %v for the instance failing readiness, want health critical, instance %s", sickLabels, in2.Addresses.Admin)
			}
			return
		}
		last = fmt.Sprint(labels, value, err, sickLabels, sickValue, sickErr)
		time.Sleep(250 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
	t.Fatalf("got %s, want up == 1 within 60s; prometheus log:\n%s", last, log)
}

// queryOne runs an instant query and returns the first sample's labels and value.
func queryOne(ctx context.Context, u string) (map[string]string, string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, "", err
	}
	if len(body.Data.Result) == 0 {
		return nil, "", fmt.Errorf("no sample yet")
	}
	r := body.Data.Result[0]
	v, _ := r.Value[1].(string)
	return r.Metric, v, nil
}
