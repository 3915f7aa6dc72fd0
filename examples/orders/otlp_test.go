package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/internal/testenv"
)

// TestOTLPReachesCollector runs hello, orders and inventory as built binaries against a
// real OpenTelemetry Collector (tools/otelcol, file exporter) with
// OTEL_METRICS_EXPORTER=prometheus,otlp and OTEL_LOGS_EXPORTER=otlp on hello and
// orders, sends each a request inside a known sampled trace, stops them, and reads
// what the collector wrote: the request metrics under their semantic-convention names,
// units and attributes (http.server.request.duration in s with http.route...; the
// Prometheus names on /metrics) with the request's trace id as exemplar, the access-log record carrying
// that trace id, and the spans. /metrics still serves the same instruments and passes
// promtool.
func TestOTLPReachesCollector(t *testing.T) {
	col := testenv.RequireCollector(t)
	build(t)
	hello := testenv.Build(t, "../hello")
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	base := []string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.Endpoint, "OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_RESOURCE_ATTRIBUTES=test.run=" + runID}
	signals := []string{"OTEL_METRICS_EXPORTER=prometheus,otlp", "OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRIC_EXPORT_INTERVAL=500", "OTEL_BLRP_SCHEDULE_DELAY=100", "ACCESS_LOG_SAMPLE=1"}
	inv, invHTTP, _ := run(t, invPath, append(base, "INVENTORY_SEED=sku-1=5")...)
	ord, ordHTTP, ordAdmin := run(t, binPath, append(append(base, signals...), "DISCOVERY_STATIC=inventory="+invHTTP)...)
	hel, helHTTP, helAdmin := run(t, hello, append(base, signals...)...)

	const (
		helloTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
		ordersTrace = "0af7651916cd43dd8448eb211c80319c"
	)
	send := func(method, url, trace, body string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("GET", "http://"+helHTTP+"/hello?name=otlp", helloTrace, ""); code != 200 {
		t.Fatalf("GET /hello: %d", code)
	}
	if code := send("POST", "http://"+ordHTTP+"/orders", ordersTrace, `{"sku":"sku-1","quantity":1}`); code != http.StatusCreated {
		t.Fatalf("POST /orders: %d", code)
	}

	// Prometheus keeps working on the same instruments, with the same label names.
	for name, admin := range map[string]string{"hello": helAdmin, "orders": ordAdmin} {
		_, body := get(t, "http://"+admin+"/metrics")
		testenv.Promtool(t, body)
		for _, want := range []string{"http_server_request_duration_seconds_count{", `http_request_method="`, `http_route="`, `http_response_status_code="`, `url_scheme="http"`, "target_info{"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s /metrics lacks %s", name, want)
			}
		}
	}
	if _, body := get(t, "http://"+ordAdmin+"/metrics"); !strings.Contains(body, `server_address="`) || !strings.Contains(body, `server_port="`) {
		t.Errorf("orders /metrics lacks the client metric's server_address and server_port")
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, hel) // the stop pushes the metrics and flushes the logs a last time
	stop(t, ord)
	stop(t, inv)

	type want struct {
		service, trace string
		histogram      string
		attrs          map[string]string
	}
	for _, w := range []want{
		{"hello", helloTrace, "http.server.request.duration", map[string]string{"http.request.method": "GET", "http.route": "/hello", "http.response.status_code": "200", "url.scheme": "http"}},
		{"orders", ordersTrace, "http.server.request.duration", map[string]string{"http.request.method": "POST", "http.route": "/orders", "http.response.status_code": "201", "url.scheme": "http"}},
		{"orders", ordersTrace, "http.client.request.duration", map[string]string{"http.request.method": "POST", "server.address": "inventory", "server.port": "80", "http.response.status_code": "201"}},
	} {
		var found, exemplar bool
		var seen []string
		ok := testenv.Eventually(10*time.Second, func() bool {
			seen = seen[:0]
			for _, m := range col.Metrics(t) {
				if m.Resource["test.run"] != runID || m.Resource["service.name"] != w.service {
					continue
				}
				seen = append(seen, m.Name)
				if m.Name != w.histogram || m.Kind != "histogram" || m.Unit != "s" {
					continue
				}
			points:
				for _, p := range m.Points {
					for k, v := range w.attrs {
						if p.Attributes[k] != v {
							continue points
						}
					}
					if _, ok := p.Attributes["error.type"]; ok {
						t.Errorf("%s: %s point %v has error.type on a success, want none", w.service, w.histogram, p.Attributes)
					}
					found = true
					for _, e := range p.Exemplars {
						exemplar = exemplar || e.TraceID == w.trace
					}
				}
			}
			return found && exemplar
		})
		if !ok {
			t.Errorf("%s: no %s point with %v and an exemplar of trace %s arrived (found %t, exemplar %t); metrics seen: %v",
				w.service, w.histogram, w.attrs, w.trace, found, exemplar, seen)
		}
	}
	for _, s := range []struct{ service, trace string }{{"hello", helloTrace}, {"orders", ordersTrace}} {
		var logs, spans int
		ok := testenv.Eventually(10*time.Second, func() bool {
			logs, spans = 0, 0
			for _, l := range col.Logs(t) {
				if l.Resource["test.run"] == runID && l.Resource["service.name"] == s.service && l.Body == "request" && l.TraceID == s.trace && l.SpanID != "" {
					logs++
				}
			}
			for _, sp := range col.Spans(t) {
				if sp.Resource["test.run"] == runID && sp.Resource["service.name"] == s.service && sp.TraceID == s.trace {
					spans++
				}
			}
			return logs > 0 && spans > 0
		})
		if !ok {
			t.Errorf("%s: got %d access-log records and %d spans of trace %s in the collector, want at least one of each", s.service, logs, spans, s.trace)
		}
	}
	// inventory exports traces only: no metric or log of its own arrived.
	for _, m := range col.Metrics(t) {
		if m.Resource["test.run"] == runID && m.Resource["service.name"] == "inventory" {
			t.Errorf("inventory pushed %s, want nothing (OTEL_METRICS_EXPORTER unset)", m.Name)
			break
		}
	}
}
