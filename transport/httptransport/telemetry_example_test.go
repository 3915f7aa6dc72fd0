package httptransport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/paved-road/paved/transport/httptransport"
)

// Wrap the mux so every request gets a server span named by its route and a
// request-duration observation labelled by method, route, status code, error type and
// scheme. The mux, as Router, names the route of its 405s too.
func ExampleServerTelemetry() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reg := prometheus.NewRegistry()
	metrics, _ := httptransport.NewServerMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	handler := httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: tp, Metrics: metrics, Router: mux})(mux)

	for _, req := range []struct{ method, path string }{{"GET", "/items/1"}, {"GET", "/items/2"}, {"GET", "/no/such/page"}, {"DELETE", "/items/3"}} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
	}
	mfs, _ := reg.Gather()
	for _, m := range mfs[0].GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		fmt.Println(strings.Join(labels, " "), m.GetHistogram().GetSampleCount())
	}
	// Output:
	// GET /items/{id}
	// GET /items/{id}
	// GET
	// DELETE /items/{id}
	// error_type= http_request_method=DELETE http_response_status_code=405 http_route=/items/{id} url_scheme=http 1
	// error_type= http_request_method=GET http_response_status_code=200 http_route=/items/{id} url_scheme=http 2
	// error_type= http_request_method=GET http_response_status_code=404 http_route=unmatched url_scheme=http 1
}

// Trace every call of a go-kit endpoint and record its error.
func ExampleTraceEndpoint() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ep := httptransport.TraceEndpoint(tp, "inventory.reserve")(func(ctx context.Context, req any) (any, error) {
		return nil, errors.New("out of stock")
	})
	_, err := ep(context.Background(), nil)
	s := rec.Ended()[0]
	fmt.Println(s.Name(), s.Status().Code, s.Status().Description, err)
	// Output:
	// inventory.reserve Error out of stock out of stock
}
