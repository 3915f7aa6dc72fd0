package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
)

// recorder is an in-memory tracer provider for one service.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// ordersEnv is the orders configuration of the tests: inventory at addr, and a breaker
// that opens after 3 failures and probes again after 300ms.
func ordersEnv(addr string) map[string]string {
	return map[string]string{
		"DISCOVERY_STATIC":                       "inventory=" + addr,
		"INVENTORY_BREAKER_CONSECUTIVE_FAILURES": "3",
		"INVENTORY_BREAKER_OPEN_TIMEOUT":         "300ms",
		"INVENTORY_RETRY_INITIAL_BACKOFF":        "10ms",
		"INVENTORY_RETRY_MAX_BACKOFF":            "20ms",
		"INVENTORY_TIMEOUT":                      "2s",
		"INVENTORY_ATTEMPT_TIMEOUT":              "500ms",
	}
}

// placed is orders' answer to POST /orders.
type placed struct {
	ID, SKU, Status, ReservationID string
	Quantity                       int
}

// TestEndToEnd runs inventory and orders in this process on loopback, orders finding
// inventory through DISCOVERY_STATIC, and checks what a user of orders relies on.
func TestEndToEnd(t *testing.T) {
	invTP, invSpans := recorder(t)
	ordTP, ordSpans := recorder(t)
	inv := start(t, inventory.Info(), inventory.Setup, map[string]string{"INVENTORY_SEED": "sku-1=10,sku-2=1"},
		service.WithTracerProvider(invTP))
	ord := start(t, orders.Info(), orders.Setup, ordersEnv(hostPort(inv)), service.WithTracerProvider(ordTP))

	available := func(sku string) int {
		t.Helper()
		resp, b := call(t, "GET", inv.url("/items/"+sku), "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /items/%s: got %d, want 200: %s", sku, resp.StatusCode, b)
		}
		return decode[inventory.Item](t, b).Available
	}

	var first placed
	t.Run("order placed, stock drops", func(t *testing.T) {
		resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-1","quantity":3}`)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /orders: got %d, want 201: %s", resp.StatusCode, b)
		}
		first = decode[placed](t, b)
		if !strings.HasPrefix(first.ID, "ord-") || first.SKU != "sku-1" || first.Quantity != 3 ||
			first.Status != "confirmed" || !strings.HasPrefix(first.ReservationID, "res-") {
			t.Errorf("order: got %+v, want a confirmed order of 3 sku-1 with a reservation", first)
		}
		if loc := resp.Header.Get("Location"); loc != "/orders/"+first.ID {
			t.Errorf("Location: got %q, want %q", loc, "/orders/"+first.ID)
		}
		if got := available("sku-1"); got != 7 {
			t.Errorf("sku-1 available after the order: got %d, want 7", got)
		}
		resp, b = call(t, "GET", ord.url("/orders/"+first.ID), "")
		if got := decode[placed](t, b); resp.StatusCode != 200 || got != first {
			t.Errorf("GET /orders/%s: got %d %+v, want 200 %+v", first.ID, resp.StatusCode, got, first)
		}
	})

	t.Run("one trace spans both services", func(t *testing.T) {
		if first.ID == "" {
			t.Skip("no order placed")
		}
		checkTrace(t, ordSpans, invSpans)
	})

	t.Run("short stock is 409", func(t *testing.T) {
		resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-2","quantity":5}`)
		p := wantProblem(t, resp, b, http.StatusConflict)
		if !strings.Contains(p.Detail, "insufficient stock") {
			t.Errorf("detail: got %q, want it to say insufficient stock", p.Detail)
		}
		if got := available("sku-2"); got != 1 {
			t.Errorf("sku-2 available after a refused order: got %d, want 1", got)
		}
	})

	t.Run("bad input is 400 naming the field", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"sku":"sku-1","quantity":0}`, "quantity"},
			{`{"sku":"","quantity":1}`, "sku"},
			{`{"sku":"SKU 1","quantity":1}`, "sku"},
			{`{"sku":"sku-404","quantity":1}`, "sku"}, // unknown to inventory
			{`{"sku":"sku-1","quantity":1,"color":"red"}`, "color"},
			{`{"sku":"sku-1","quantity":"two"}`, "quantity"},
		} {
			resp, b := call(t, "POST", ord.url("/orders"), tc.body)
			p := wantProblem(t, resp, b, http.StatusBadRequest)
			if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Errorf("%s: got fields %+v, want %s named", tc.body, p.Errors, tc.field)
			}
		}
		resp, b := call(t, "GET", ord.url("/orders/ord-unknown"), "")
		wantProblem(t, resp, b, http.StatusNotFound)
	})

	t.Run("both score 100 on compliance", func(t *testing.T) {
		for _, s := range []running{inv, ord} {
			if score, failed, body := complianceOf(t, s); score != 100 || len(failed) != 0 {
				t.Errorf("%s compliance: got %d failed %v, want 100:\n%s", s.Info().Name, score, failed, body)
			}
		}
	})

	t.Run("inventory publishes its contract, orders consumes it", func(t *testing.T) {
		resp, b := call(t, "GET", inv.admin("/apis/inventory-http-v1"), "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.oai.openapi+json" || string(b) != string(inventory.OpenAPI) {
			t.Errorf("inventory /apis/inventory-http-v1: got %d %s, want 200 the OpenAPI document", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, b = call(t, "GET", inv.admin("/compliance?format=json"), "")
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"2 routes, each in the OpenAPI document"`) {
			t.Errorf("inventory compliance: got %d, want routes-documented passing for its 2 routes:\n%.2000s", resp.StatusCode, b)
		}
		_, b = call(t, "GET", ord.admin("/info"), "")
		var info struct {
			ConsumesAPIs []string `json:"consumesApis"`
			Extra        struct {
				Consumes []map[string]any `json:"consumes"`
			} `json:"extra"`
		}
		decodeInto(t, b, &info)
		want := map[string]any{"api": "inventory-http-v1", "provider": "inventory", "declared": true, "observed": true}
		if len(info.ConsumesAPIs) != 1 || info.ConsumesAPIs[0] != orders.InventoryAPI || len(info.Extra.Consumes) != 1 || fmt.Sprint(info.Extra.Consumes[0]) != fmt.Sprint(want) {
			t.Errorf("orders /info: got consumesApis %v, consumes %v; want [%s] and [%v]", info.ConsumesAPIs, info.Extra.Consumes, orders.InventoryAPI, want)
		}
	})

	t.Run("inventory down: 503, breaker opens, recovers", func(t *testing.T) {
		addr := hostPort(inv)
		inv.stop()
		for i := range 5 {
			resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-1","quantity":1}`)
			p := wantProblem(t, resp, b, http.StatusServiceUnavailable)
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("request %d: Retry-After: got %q, want whole seconds >= 1", i, resp.Header.Get("Retry-After"))
			}
			for _, leak := range []string{"dial", "refused", "127.0.0.1", "breaker"} {
				if strings.Contains(string(b), leak) {
					t.Errorf("request %d: the problem shows internal text %q: %s", i, leak, b)
				}
			}
			_ = p
		}
		// The breaker opened: later calls were refused without reaching inventory.
		if got := metricValue(t, ord.Gatherer(), "paved_breaker_state", nil); got != 2 {
			t.Errorf("paved_breaker_state: got %v, want 2 (open)", got)
		}
		if got := metricValue(t, ord.Gatherer(), "paved_breaker_results_total", map[string]string{"result": "rejected"}); got < 1 {
			t.Errorf("breaker rejections: got %v, want at least 1", got)
		}
		resp, b := call(t, "GET", ord.admin("/readyz"), "")
		if resp.StatusCode != 200 {
			t.Errorf("orders /readyz with inventory down: got %d, want 200 (an open breaker only warns): %s", resp.StatusCode, b)
		}

		// Inventory comes back on the same address; orders recovers once the breaker
		// lets a probe through.
		start(t, inventory.Info(), inventory.Setup, map[string]string{"HTTP_ADDR": addr, "INVENTORY_SEED": "sku-1=10"})
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-1","quantity":1}`)
			if resp.StatusCode == http.StatusCreated {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("orders did not recover within 10s of inventory's return: last %d %s", resp.StatusCode, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := metricValue(t, ord.Gatherer(), "paved_breaker_state", nil); got != 0 {
			t.Errorf("paved_breaker_state after recovery: got %v, want 0 (closed)", got)
		}
	})
}

// checkTrace finds the spans of the first POST /orders and checks the chain: orders'
// server span → (its endpoint span) → orders' client span → inventory's server span, in
// one trace.
func checkTrace(t *testing.T, ordSpans, invSpans *tracetest.SpanRecorder) {
	t.Helper()
	var server, client, remote sdktrace.ReadOnlySpan
	deadline := time.Now().Add(5 * time.Second)
	for server == nil || client == nil || remote == nil {
		server, client, remote = nil, nil, nil
		for _, s := range ordSpans.Ended() {
			switch {
			case s.SpanKind() == trace.SpanKindServer && s.Name() == "POST /orders" && server == nil:
				server = s
			case s.SpanKind() == trace.SpanKindClient && client == nil:
				client = s
			}
		}
		for _, s := range invSpans.Ended() {
			if s.SpanKind() == trace.SpanKindServer && s.Name() == "POST /reservations" {
				remote = s
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans not found: server %v, client %v, inventory server %v; orders spans %v, inventory spans %v",
				server != nil, client != nil, remote != nil, names(ordSpans.Ended()), names(invSpans.Ended()))
		}
		if server == nil || client == nil || remote == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	tid := server.SpanContext().TraceID()
	for _, s := range []sdktrace.ReadOnlySpan{client, remote} {
		if s.SpanContext().TraceID() != tid {
			t.Errorf("span %q: got trace %s, want %s", s.Name(), s.SpanContext().TraceID(), tid)
		}
	}
	// The client span descends from orders' server span.
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range ordSpans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	found := false
	for p := client.Parent(); p.IsValid(); {
		if p.SpanID() == server.SpanContext().SpanID() {
			found = true
			break
		}
		s, ok := byID[p.SpanID()]
		if !ok {
			break
		}
		p = s.Parent()
	}
	if !found {
		t.Errorf("client span %q does not descend from orders' server span %q", client.Name(), server.Name())
	}
	// Inventory's server span is the client span's child, across the network.
	if got, want := remote.Parent().SpanID(), client.SpanContext().SpanID(); got != want || !remote.Parent().IsRemote() {
		t.Errorf("inventory server span parent: got %s (remote %v), want the client span %s (remote)", got, remote.Parent().IsRemote(), want)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.SpanKind().String() + ":" + s.Name()
	}
	return out
}

// metricValue returns the value of the gauge or counter name with labels (a subset)
// in g, summed over the matching series.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				ok := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						ok = true
					}
				}
				if !ok {
					continue series
				}
			}
			found = true
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	if !found {
		t.Fatalf("metric %s%v not found", name, labels)
	}
	return sum
}

// TestProductionCompliance runs both services as in production: SERVICE_ENV=production,
// traces exported over OTLP, and REGISTRY=catalog. Until the catalog client exists,
// the "catalog" backend is given in code: one in-memory static.Registry that both
// register with and orders discovers inventory through (no DISCOVERY_STATIC). Both must
// score 100, orders must find inventory through the registry, and spans must reach the
// collector.
func TestProductionCompliance(t *testing.T) {
	// fakeCollector stands in for an OpenTelemetry collector: it accepts OTLP/HTTP
	// trace exports and counts them.
	var exports atomic.Int64
	fakeCollector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/v1/traces" {
			exports.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer fakeCollector.Close()

	reg := &static.Registry{}
	backend := service.WithRegistryBackend(reg.Backend(service.RegistryCatalog))
	prod := func(extra map[string]string) map[string]string {
		env := map[string]string{
			"SERVICE_ENV":                 "production",
			"OTEL_TRACES_EXPORTER":        "otlp",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
			"OTEL_EXPORTER_OTLP_ENDPOINT": fakeCollector.URL,
			"REGISTRY":                    "catalog",
			"CATALOG_URL":                 "http://catalog.invalid:8080",
			"CATALOG_TOKEN":               "not-used-by-the-in-code-backend",
			"DRAIN_DELAY":                 "100ms",
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	inv := start(t, inventory.Info(), inventory.Setup, prod(nil), backend)
	env := ordersEnv("")
	delete(env, "DISCOVERY_STATIC")
	ord := start(t, orders.Info(), orders.Setup, prod(env), backend)

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-1","quantity":1}`)
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orders never reached inventory through the registry: %d %s", resp.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, s := range []running{inv, ord} {
		score, failed, body := complianceOf(t, s)
		if score != 100 || len(failed) != 0 {
			t.Errorf("%s compliance in production: got %d failed %v, want 100:\n%s", s.Info().Name, score, failed, body)
		}
		if env := decode[struct{ Environment string }](t, body).Environment; env != "production" {
			t.Errorf("%s compliance: not evaluated in production:\n%.300s", s.Info().Name, body)
		}
	}
	if _, ok := reg.Lookup("inventory", inv.InstanceID()); !ok {
		t.Errorf("inventory is not registered")
	}
	ord.stop()
	inv.stop()
	if exports.Load() == 0 {
		t.Errorf("OTLP trace exports received: got 0, want at least 1")
	}
	if _, ok := reg.Lookup("inventory", inv.InstanceID()); ok {
		t.Errorf("inventory still registered after its stop")
	}
}

// decodeInto decodes the JSON b into v.
func decodeInto(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("got %v decoding %.200s, want JSON", err, b)
	}
}
