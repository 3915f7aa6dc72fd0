package orders

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/transport/httptransport"
)

// Routes calls handle once per route of orders' HTTP API with its pattern and go-kit
// server: POST /orders and GET /orders/{id}. Errors are application/problem+json.
func Routes(e Endpoints, logger *slog.Logger, tp trace.TracerProvider, handle func(pattern string, h http.Handler)) {
	opts := func(op string) []httptransport.ServerOption {
		return []httptransport.ServerOption{
			httptransport.WithLogger(logger),
			httptransport.WithTracing(tp, op),
			httptransport.WithKitOptions(kithttp.ServerErrorEncoder(encodeError(logger))),
		}
	}
	handle("POST /orders", httptransport.NewServer(e.PlaceOrder, httptransport.DecodeJSONRequest[PlaceOrderRequest](0), httptransport.EncodeJSON, opts("orders.PlaceOrder")...))
	handle("GET /orders/{id}", httptransport.NewServer(e.GetOrder, decodeGetOrder, httptransport.EncodeJSON, opts("orders.GetOrder")...))
}

func decodeGetOrder(_ context.Context, r *http.Request) (any, error) {
	return GetOrderRequest{ID: r.PathValue("id")}, nil
}

// encodeError maps the domain errors to HTTP problems, then writes them the Paved way.
func encodeError(logger *slog.Logger) kithttp.ErrorEncoder {
	write := httptransport.ErrorEncoder(logger)
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		write(ctx, toHTTPError(err), w)
	}
}

// toHTTPError maps a domain error to an *httptransport.Error. The client sees only the
// Msg; the cause goes to the log.
func toHTTPError(err error) error {
	var (
		ve *ValidationError
		re *httptransport.ResponseError
	)
	switch {
	case errors.As(err, &ve):
		fields := make([]httptransport.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = httptransport.FieldError{Field: f.Field, Detail: f.Detail}
		}
		return httptransport.BadRequest("request has invalid fields", fields...)
	case errors.Is(err, ErrInsufficientStock):
		msg := "insufficient stock"
		var is *insufficientStock
		if errors.As(err, &is) && is.detail != "" {
			msg = is.detail
		}
		return &httptransport.Error{Code: http.StatusConflict, Msg: msg, Err: err}
	case errors.Is(err, ErrUnknownSKU):
		return httptransport.BadRequest("request has invalid fields", httptransport.FieldError{Field: "sku", Detail: "is not a SKU inventory stocks"})
	case errors.Is(err, ErrInventoryUnavailable):
		return httptransport.Unavailable("inventory is unavailable; retry after the time in Retry-After", err)
	case errors.Is(err, ErrEventsUnavailable):
		return httptransport.Unavailable("the order could not be announced to the other services; retry later", err)
	case errors.Is(err, ErrNotFound):
		return &httptransport.Error{Code: http.StatusNotFound, Msg: "order not found", Err: err}
	case errors.Is(err, ErrNotOpen):
		return httptransport.Unavailable("the order store is not open", err)
	case errors.As(err, &re):
		return &httptransport.Error{Code: http.StatusBadGateway, Msg: "inventory refused the reservation", Err: err}
	}
	return err
}
