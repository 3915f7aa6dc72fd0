package httptransport

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/transport"
	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/trace"
)

// ServerOption configures [NewServer].
type ServerOption func(*serverOptions)

type serverOptions struct {
	logger     *slog.Logger
	tp         trace.TracerProvider
	operation  string
	middleware []endpoint.Middleware
	kit        []kithttp.ServerOption
}

// WithLogger logs endpoint errors (every 5xx cause) to l.
func WithLogger(l *slog.Logger) ServerOption { return func(o *serverOptions) { o.logger = l } }

// WithTracing runs every endpoint call in a span named operation, under the request's
// server span.
func WithTracing(tp trace.TracerProvider, operation string) ServerOption {
	return func(o *serverOptions) { o.tp, o.operation = tp, operation }
}

// WithEndpointMiddleware wraps the endpoint in mw, the first outermost, inside the
// tracing span (a resilience policy's Endpoint(), say).
func WithEndpointMiddleware(mw ...endpoint.Middleware) ServerOption {
	return func(o *serverOptions) { o.middleware = append(o.middleware, mw...) }
}

// WithKitOptions passes options through to go-kit's transport/http.NewServer; they
// come after Paved's, so a ServerErrorEncoder given here wins.
func WithKitOptions(opts ...kithttp.ServerOption) ServerOption {
	return func(o *serverOptions) { o.kit = append(o.kit, opts...) }
}

// NewServer returns a go-kit HTTP server for e, with Paved's error answers: errors are
// written as problem+json by [ErrorEncoder] (the status from an [*Error], a go-kit
// StatusCoder or an open breaker's Retry-After error, never internal text in a 5xx),
// and logged. Mount the result on the service's mux, inside [Stack]:
//
//	mux.Handle("POST /orders", httptransport.NewServer(placeOrder, decodeOrder, httptransport.EncodeJSON))
func NewServer(e endpoint.Endpoint, dec kithttp.DecodeRequestFunc, enc kithttp.EncodeResponseFunc, opts ...ServerOption) *kithttp.Server {
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	for i := len(o.middleware) - 1; i >= 0; i-- {
		e = o.middleware[i](e)
	}
	if o.tp != nil && o.operation != "" {
		e = TraceEndpoint(o.tp, o.operation)(e)
	}
	kitOpts := []kithttp.ServerOption{
		kithttp.ServerErrorEncoder(ErrorEncoder(o.logger)),
		kithttp.ServerErrorHandler(transport.ErrorHandlerFunc(func(ctx context.Context, err error) {})),
	}
	return kithttp.NewServer(e, dec, enc, append(kitOpts, o.kit...)...)
}

// EncodeJSON is a go-kit EncodeResponseFunc writing response as JSON, with the status
// and headers of go-kit's StatusCoder and Headerer when it implements them. A response
// implementing endpoint.Failer with a non-nil Failed() is written as that error instead.
func EncodeJSON(ctx context.Context, w http.ResponseWriter, response any) error {
	if f, ok := response.(endpoint.Failer); ok && f.Failed() != nil {
		ErrorEncoder(nil)(ctx, f.Failed(), w)
		return nil
	}
	return kithttp.EncodeJSONResponse(ctx, w, response)
}

// DecodeJSONRequest returns a go-kit DecodeRequestFunc that decodes the body strictly
// into a new T with [DecodeJSON] (limit maxBytes; 0 means 1 MiB).
func DecodeJSONRequest[T any](maxBytes int64) kithttp.DecodeRequestFunc {
	return func(_ context.Context, r *http.Request) (any, error) {
		var v T
		if err := DecodeJSON(r, &v, maxBytes); err != nil {
			return nil, err
		}
		return v, nil
	}
}
