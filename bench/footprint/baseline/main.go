// Command baseline is the same job as the consumer next to it done by hand with the
// libraries Paved wraps: configuration from the environment (caarlos0/env), a go-kit
// HTTP endpoint, a Prometheus registry on an admin port (client_golang), OpenTelemetry
// tracing exported over OTLP/HTTP, a circuit breaker (gobreaker) on an outgoing call. The
// footprint test compares the two builds; what Paved adds over this should be its own
// code, not other libraries.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

type config struct {
	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8080"`
	AdminAddr       string        `env:"ADMIN_ADDR" envDefault:":9090"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
	UpstreamURL     string        `env:"UPSTREAM_URL" envDefault:"http://127.0.0.1:8081/"`
}

func main() {
	if err := run(); err != nil {
		slog.Error("baseline stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config
	if err := env.Parse(&cfg); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_server_request_duration_seconds", Help: "Duration of HTTP server requests.",
	}, []string{"http_request_method", "http_route", "http_response_status_code"})
	reg.MustRegister(requests)

	exp, err := otlptracehttp.New(context.Background())
	if err != nil {
		return err
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("baseline")))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	defer tp.Shutdown(context.Background())
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	tracer := tp.Tracer("baseline")

	cb := gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{Name: "upstream"})
	client := &http.Client{Timeout: 2 * time.Second}

	hello := func(ctx context.Context, _ any) (any, error) {
		resp, err := cb.Execute(func() (*http.Response, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.UpstreamURL, nil)
			if err != nil {
				return nil, err
			}
			prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
			return client.Do(req)
		})
		if err == nil {
			resp.Body.Close()
		}
		return map[string]string{"greeting": "Hello, world!"}, nil
	}
	var ep endpoint.Endpoint = hello
	handler := kithttp.NewServer(ep,
		func(context.Context, *http.Request) (any, error) { return nil, nil },
		func(_ context.Context, w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) })

	mux := http.NewServeMux()
	mux.Handle("GET /hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "GET /hello", trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		handler.ServeHTTP(w, r.WithContext(ctx))
		requests.WithLabelValues(r.Method, "/hello", "200").Observe(time.Since(start).Seconds())
	}))
	admin := http.NewServeMux()
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	admin.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })

	pub := &http.Server{Addr: cfg.HTTPAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	adm := &http.Server{Addr: cfg.AdminAddr, Handler: admin, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- adm.ListenAndServe() }()
	go func() { errc <- pub.ListenAndServe() }()
	log.Info("baseline serving", "http", cfg.HTTPAddr, "admin", cfg.AdminAddr)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case err := <-errc:
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(pub.Shutdown(ctx), adm.Shutdown(ctx))
}
