package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog/server"
)

// TestLimitSettingsErrors: every bad limit setting is named at once, exit code 2.
func TestLimitSettingsErrors(t *testing.T) {
	p := start(t, false, "CATALOG_STORE=memory", "CATALOG_MAX_CONNS_PER_CLIENT=-1", "CATALOG_RATE_PER_CLIENT=-5",
		"CATALOG_RATE_PER_BEARER=NaN", "CATALOG_BURST_PER_CLIENT=0", "CATALOG_BURST_PER_BEARER=many", "CATALOG_HOLD_OVER_CAP=-1s", "CATALOG_REFUSAL_DELAY=2m")
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Errorf("exit code: got %d, want 2", code)
	}
	for _, v := range []string{"CATALOG_MAX_CONNS_PER_CLIENT", "CATALOG_RATE_PER_CLIENT", "CATALOG_RATE_PER_BEARER", "CATALOG_BURST_PER_BEARER", "CATALOG_HOLD_OVER_CAP", "CATALOG_REFUSAL_DELAY"} {
		if !strings.Contains(p.Output(), v) {
			t.Errorf("output does not name %s:\n%s", v, p.Output())
		}
	}
}

// TestBurstNeedsRate: a burst below 1 with a rate set is a configuration error naming
// both settings.
func TestBurstNeedsRate(t *testing.T) {
	p := start(t, false, "CATALOG_STORE=memory", "CATALOG_BURST_PER_CLIENT=0")
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Errorf("exit code: got %d, want 2", code)
	}
	if !strings.Contains(p.Output(), `CATALOG_BURST_PER_CLIENT="0": must be 1 or more when CATALOG_RATE_PER_CLIENT is set`) {
		t.Errorf("output does not explain the burst:\n%s", p.Output())
	}
}

// TestLimitsServed: the program applies its limit settings: a client's sixth read at
// once is 429 with Retry-After, answered after CATALOG_REFUSAL_DELAY, its third connection is held unanswered for
// CATALOG_HOLD_OVER_CAP and then closed, and both show in
// paved_catalog_refused_total on the admin /metrics.
func TestLimitsServed(t *testing.T) {
	p := start(t, true, "CATALOG_STORE=memory", "CATALOG_MAX_CONNS_PER_CLIENT=2", "CATALOG_HOLD_OVER_CAP=500ms", "CATALOG_REFUSAL_DELAY=300ms", "CATALOG_RATE_PER_CLIENT=1", "CATALOG_BURST_PER_CLIENT=5")
	addr := strings.TrimPrefix(p.api, "http://")
	get := func(c net.Conn) (int, http.Header) {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /api/v1/components HTTP/1.1\r\nHost: catalog\r\n\r\n"); err != nil {
			return 0, nil
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	var held []net.Conn
	dialed := time.Now() // the hold of the third connection starts after this
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	if code, _ := get(held[0]); code != 200 {
		t.Fatalf("first connection: got %d, want 200", code)
	}
	if code, _ := get(held[1]); code != 200 {
		t.Fatalf("second connection: got %d, want 200", code)
	}
	for i := range 3 {
		if code, _ := get(held[0]); code != 200 {
			t.Fatalf("read %d within the burst: got %d, want 200", i+3, code)
		}
	}
	sent := time.Now()
	code, h := get(held[0])
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("sixth read at once: got %d with Retry-After %q, want 429 with Retry-After", code, h.Get("Retry-After"))
	}
	if d := time.Since(sent); d < 250*time.Millisecond {
		t.Errorf("the 429 came after %v, want it paced by CATALOG_REFUSAL_DELAY (300 ms)", d)
	}
	// The third connection is held unanswered for CATALOG_HOLD_OVER_CAP (within 25 %),
	// then closed.
	_ = held[2].SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(held[2], "GET /api/v1/components HTTP/1.1\r\nHost: catalog\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_, err := held[2].Read(make([]byte, 1))
	if d := time.Since(dialed); err == nil || errors.Is(err, os.ErrDeadlineExceeded) || d < 375*time.Millisecond {
		t.Fatalf("third connection: read ended %v after it was dialed with %v, want it held 375 to 625 ms and closed unanswered", d, err)
	}
	metrics := scrape(t, p.admin)
	for _, want := range []string{`paved_catalog_refused_total{reason="connection_cap"} 1`, `paved_catalog_refused_total{reason="client_rate"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func scrape(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCatalogMetricsDocumented: every paved_catalog_* family the program exposes is
// listed in docs/metrics.md, and every one listed there is exposed.
func TestCatalogMetricsDocumented(t *testing.T) {
	p := start(t, true, "CATALOG_STORE=memory")
	if code, body := do(t, "GET", p.api+"/api/v1/components", "", ""); code != 200 {
		t.Fatalf("GET components: %d %s", code, body)
	}
	exposed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (paved_catalog_[a-z_]+) `).FindAllStringSubmatch(scrape(t, p.admin), -1) {
		exposed[m[1]] = true
	}
	if len(exposed) == 0 {
		t.Fatal("the catalog exposes no paved_catalog_* metric")
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(paved_catalog_[a-z_]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for name := range exposed {
		if !documented[name] {
			t.Errorf("the catalog exposes %s, which docs/metrics.md does not list", name)
		}
	}
	for name := range documented {
		// The per-component DORA families have series only once a component has a
		// history (and, for some, a commit time or an incident); a fresh catalog has none.
		// The Compass families exist only when the push is on (COMPASS_SITE_URL).
		if !exposed[name] && (!strings.HasPrefix(name, "paved_catalog_dora_") || name == server.MetricDORAWindow) &&
			!strings.HasPrefix(name, "paved_catalog_compass_") {
			t.Errorf("docs/metrics.md lists %s, which the catalog does not expose", name)
		}
	}
}
