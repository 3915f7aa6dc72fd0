package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// direct is a catalog server called in process (no socket), so that it can run in a
// synctest bubble: time is the bubble's.
type direct struct {
	t   *testing.T
	h   http.Handler
	st  *memory.Store
	reg *prometheus.Registry
}

func newDirect(t *testing.T, limits server.Limits) *direct {
	t.Helper()
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + tokenA + "\nteam-b:" + tokenB + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	reg := prometheus.NewPedanticRegistry()
	h := server.New(st, server.Options{Tokens: tokens, AdminToken: adminToken, Limits: limits, Registerer: reg, Development: true})
	return &direct{t: t, h: h, st: st, reg: reg}
}

// call sends a request from client (an address) with token and the If-Match header
// ifMatch (none when empty).
func (d *direct) call(client, method, path, token, ifMatch string, body any) *httptest.ResponseRecorder {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			d.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = client + ":40000"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	w := httptest.NewRecorder()
	d.h.ServeHTTP(w, req)
	return w
}

func want(t *testing.T, w *httptest.ResponseRecorder, status int, what string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("%s: got status %d, want %d (body %s)", what, w.Code, status, w.Body)
	}
}

// instance30 is a valid instance with a 30 s TTL: heartbeats every 10 s.
func instance30(comp, id string) catalog.Instance {
	in := storetest.Instance(comp, id)
	in.TTLSeconds = 30
	return in
}

// drain sends reads with token from client until one is refused, and returns it.
func (d *direct) drain(client, token string) *httptest.ResponseRecorder {
	d.t.Helper()
	for range 10_000 {
		if w := d.call(client, "GET", "/api/v1/components/orders", token, "", nil); w.Code != http.StatusOK {
			return w
		}
	}
	d.t.Fatal("no request refused after 10,000")
	return nil
}

// TestTokenRateSparesHeartbeats: a token over its rate gets 429 problem+json with
// Retry-After, while the heartbeats of its registered instances, at their rate, all
// succeed; another team's token and another client are unaffected; heartbeats faster
// than their rate, or of instances that are not registered, are charged like any
// request and refused.
func TestTokenRateSparesHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDirect(t, server.Limits{TokenRate: 1, TokenBurst: 5})
		const a, b = "192.0.2.1", "192.0.2.2"
		want(t, d.call(a, "PUT", "/api/v1/components/orders", tokenA, "", storetest.Component("orders", "team-a")), 201, "component")
		want(t, d.call(b, "PUT", "/api/v1/components/billing", tokenB, "", storetest.Component("billing", "team-b")), 201, "component")
		for i := range 3 {
			want(t, d.call(a, "PUT", fmt.Sprintf("/api/v1/components/orders/instances/i-%d", i), tokenA, "", instance30("orders", fmt.Sprintf("i-%d", i))), 200, "register")
		}

		refused := d.drain(a, tokenA)
		want(t, refused, http.StatusTooManyRequests, "over the token's rate")
		if ra, err := strconv.Atoi(refused.Header().Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("got Retry-After %q, want whole seconds >= 1", refused.Header().Get("Retry-After"))
		}
		if ct := refused.Header().Get("Content-Type"); ct != catalog.ProblemContentType {
			t.Fatalf("got Content-Type %q, want %s", ct, catalog.ProblemContentType)
		}
		var p catalog.Problem
		if err := json.Unmarshal(refused.Body.Bytes(), &p); err != nil || p.Status != 429 || !strings.Contains(p.Detail, "this token") {
			t.Fatalf("got %+v (%v), want a 429 problem naming the token", p, err)
		}
		// Another team, and a client without a token, are served meanwhile.
		want(t, d.call(b, "GET", "/api/v1/components/billing", tokenB, "", nil), 200, "other team")
		want(t, d.call(b, "GET", "/api/v1/components/orders", "", "", nil), 200, "no token")

		// Ten rounds of heartbeats, every TTL/3, with the token kept over its rate.
		for round := range 10 {
			if round > 0 {
				time.Sleep(10 * time.Second)
			}
			d.drain(a, tokenA)
			for i := range 3 {
				want(t, d.call(a, "PUT", fmt.Sprintf("/api/v1/components/orders/instances/i-%d", i), tokenA, "*", instance30("orders", fmt.Sprintf("i-%d", i))), 200,
					fmt.Sprintf("heartbeat of i-%d in round %d", i, round))
			}
		}
		// A readiness change heartbeats at once: within the burst, still served.
		want(t, d.call(a, "PUT", "/api/v1/components/orders/instances/i-0", tokenA, "*", instance30("orders", "i-0")), 200, "heartbeat at once")
		// Hammering heartbeats spends the instance's budget; then they are charged to the
		// spent token and refused.
		var last *httptest.ResponseRecorder
		for range 5 {
			last = d.call(a, "PUT", "/api/v1/components/orders/instances/i-0", tokenA, "*", instance30("orders", "i-0"))
		}
		want(t, last, http.StatusTooManyRequests, "heartbeats faster than TTL/3")
		// A heartbeat of an instance that is not registered is charged too.
		want(t, d.call(a, "PUT", "/api/v1/components/orders/instances/i-9", tokenA, "*", instance30("orders", "i-9")), http.StatusTooManyRequests, "heartbeat of an unknown instance")

		if got := testutil.ToFloat64(refusedCounter(t, d.reg, "token_rate")); got < 10 {
			t.Errorf("paved_catalog_refused_total{reason=token_rate}: got %v, want at least 10", got)
		}
		if got := heartbeatsOK(t, d.reg); got != 32 {
			t.Errorf("paved_catalog_heartbeats_total{result=ok}: got %v, want 32", got)
		}
		_ = d.st.Close()
	})
}

// TestClientRate: requests from one address over its rate get 429; another address is
// served; after the refill the first is served again.
func TestClientRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDirect(t, server.Limits{ClientRate: 2, ClientBurst: 4})
		const a, b = "198.51.100.7", "2001:db8::1"
		want(t, d.call(b, "PUT", "/api/v1/components/orders", tokenA, "", storetest.Component("orders", "team-a")), 201, "component")
		for i := range 4 {
			want(t, d.call(a, "GET", "/api/v1/components/orders", "", "", nil), 200, fmt.Sprintf("read %d", i))
		}
		w := d.call(a, "GET", "/api/v1/components/orders", "", "", nil)
		want(t, w, http.StatusTooManyRequests, "fifth read at once")
		if w.Header().Get("Retry-After") != "1" {
			t.Errorf("got Retry-After %q, want 1", w.Header().Get("Retry-After"))
		}
		// The same /64 is the same client; another is not.
		want(t, d.call("2001:db8::2", "GET", "/api/v1/components/orders", "", "", nil), 200, "same /64, within its burst")
		want(t, d.call("2001:db8:0:1::1", "GET", "/api/v1/components/orders", "", "", nil), 200, "another /64")
		time.Sleep(time.Second)
		want(t, d.call(a, "GET", "/api/v1/components/orders", "", "", nil), 200, "after the refill")
		_ = d.st.Close()
	})
}

// TestLimiterTablesStayBounded: 20,000 clients with tokens, and heartbeats of 1,000
// instances, never make the tables hold more than MaxTracked entries; once idle,
// entries make room for new clients, which get buckets of their own again.
func TestLimiterTablesStayBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 100
		d := newDirect(t, server.Limits{ClientRate: 1000, ClientBurst: 1000, TokenRate: 1e6, TokenBurst: 1e6, MaxTracked: max})
		want(t, d.call("10.0.0.1", "PUT", "/api/v1/components/orders", tokenA, "", storetest.Component("orders", "team-a")), 201, "component")
		for i := range 1000 {
			want(t, d.call(fmt.Sprintf("10.1.%d.%d", i/250, i%250), "PUT", fmt.Sprintf("/api/v1/components/orders/instances/i-%d", i), tokenA, "",
				instance30("orders", fmt.Sprintf("i-%d", i))), 200, "register")
		}
		for i := range 20_000 {
			d.call(fmt.Sprintf("10.2.%d.%d", i/250, i%250), "GET", "/api/v1/components/orders", tokenA, "", nil)
			if i%1000 == 0 {
				checkEntries(t, d.reg, max)
			}
		}
		checkEntries(t, d.reg, max)
		// Past the overflow: the clients over the table share one bucket, so a new one
		// is refused at once; after the entries went idle, a new client has its own.
		want(t, d.call("10.3.0.1", "GET", "/api/v1/components/orders", "", "", nil), http.StatusTooManyRequests, "a new client while the table is full")
		time.Sleep(2 * time.Second)
		want(t, d.call("10.3.0.2", "GET", "/api/v1/components/orders", "", "", nil), 200, "a new client once entries are idle")
		checkEntries(t, d.reg, max)
		_ = d.st.Close()
	})
}

// checkEntries fails when a limiter table holds more than max entries.
func checkEntries(t *testing.T, reg *prometheus.Registry, max int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, mf := range mfs {
		if mf.GetName() != server.MetricLimiterEntries {
			continue
		}
		for _, m := range mf.GetMetric() {
			seen++
			if v := m.GetGauge().GetValue(); v > float64(max) {
				t.Fatalf("table %s holds %v entries, want at most %d", m.GetLabel()[0].GetValue(), v, max)
			}
		}
	}
	if seen != 5 {
		t.Fatalf("got %d limiter tables in the metrics, want 5", seen)
	}
}

func refusedCounter(t *testing.T, reg *prometheus.Registry, reason string) prometheus.Collector {
	t.Helper()
	return gaugeOf(t, reg, server.MetricRefused, "reason", reason)
}

func heartbeatsOK(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return testutil.ToFloat64(gaugeOf(t, reg, server.MetricHeartbeats, "result", "ok"))
}

// gaugeOf returns the value of one series of a gathered family as a constant
// collector, for testutil.ToFloat64.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name, label, value string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
					return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"}, func() float64 { return v })
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q} in the registry", name, label, value)
	return nil
}

// TestConnectionCapPerClient: on a real loopback socket, a client at its cap has further
// connections closed unanswered while another client is served; closing one of its
// connections makes room again.
func TestConnectionCapPerClient(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	reg := prometheus.NewPedanticRegistry()
	srv := server.New(st, server.Options{Limits: server.Limits{MaxConnsPerClient: 2}, Registerer: reg})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(srv.LimitListener(l)) }()
	defer func() {
		_ = hs.Close()
		<-done
	}()
	addr := l.Addr().String()

	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Skipf("cannot dial from %s on this machine: %v", from, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	// get sends one request on c and reports its status, or 0 when the connection was
	// closed without an answer.
	get := func(c net.Conn) int {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /api/v1/components HTTP/1.1\r\nHost: catalog\r\n\r\n"); err != nil {
			return 0
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	noisy := []net.Conn{dial("127.0.0.2"), dial("127.0.0.2")}
	for i, c := range noisy {
		if got := get(c); got != 200 {
			t.Fatalf("connection %d within the cap: got %d, want 200", i, got)
		}
	}
	for i := range 3 {
		if got := get(dial("127.0.0.2")); got != 0 {
			t.Fatalf("connection %d over the cap: got status %d, want it closed unanswered", i+3, got)
		}
	}
	other := dial("127.0.0.3")
	for range 3 {
		if got := get(other); got != 200 {
			t.Fatalf("another client: got %d, want 200", got)
		}
	}
	// The held connections still work; closing one makes room for a new one.
	if got := get(noisy[0]); got != 200 {
		t.Fatalf("a held connection: got %d, want 200", got)
	}
	_ = noisy[1].Close()
	var got int
	for range 50 { // the server sees the close asynchronously
		if got = get(dial("127.0.0.2")); got == 200 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != 200 {
		t.Fatalf("a new connection after one closed: got %d, want 200", got)
	}
	if n := testutil.ToFloat64(refusedCounter(t, reg, "connection_cap")); n < 3 {
		t.Errorf("paved_catalog_refused_total{reason=connection_cap}: got %v, want at least 3", n)
	}
}

// TestRefusalsArePaced: with Limits.RefusalDelay, a request over its client's rate is
// answered 429 after RefusalDelay, even when its bucket refills sooner, with
// Retry-After counting what is left of the wait; another client is answered at once
// meanwhile.
func TestRefusalsArePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDirect(t, server.Limits{ClientRate: 0.25, ClientBurst: 1, RefusalDelay: time.Second})
		const a, b = "198.51.100.7", "198.51.100.8"
		want(t, d.call(a, "GET", "/api/v1/components", "", "", nil), 200, "first read")
		start := time.Now()
		refused := make(chan *httptest.ResponseRecorder, 1)
		go func() { refused <- d.call(a, "GET", "/api/v1/components", "", "", nil) }()
		synctest.Wait()
		select {
		case <-refused:
			t.Fatal("the refusal was answered at once, want it paced")
		default:
		}
		want(t, d.call(b, "GET", "/api/v1/components", "", "", nil), 200, "another client meanwhile")
		w := <-refused
		want(t, w, http.StatusTooManyRequests, "second read")
		if took := time.Since(start); took != time.Second {
			t.Errorf("the 429 came after %v, want RefusalDelay (1s): the bucket needed 4s", took)
		}
		if got := w.Header().Get("Retry-After"); got != "3" {
			t.Errorf("got Retry-After %q, want 3 (4 s of wait, 1 s spent)", got)
		}
		// A wait shorter than RefusalDelay: the answer still comes after RefusalDelay.
		d2 := newDirect(t, server.Limits{ClientRate: 2, ClientBurst: 1, RefusalDelay: time.Second})
		want(t, d2.call(a, "GET", "/api/v1/components", "", "", nil), 200, "first read")
		start = time.Now()
		want(t, d2.call(a, "GET", "/api/v1/components", "", "", nil), http.StatusTooManyRequests, "second read")
		if took := time.Since(start); took != time.Second {
			t.Errorf("the 429 came after %v, want RefusalDelay (1s), not the bucket's wait (500ms)", took)
		}
		_ = d.st.Close()
		_ = d2.st.Close()
	})
}
