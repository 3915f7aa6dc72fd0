package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/transport/httptransport"
)

// IdempotencyKeyHeader is the header a caller may send with POST /reservations; when
// present it must equal the body's orderId, the key reservations are idempotent by.
const IdempotencyKeyHeader = "Idempotency-Key"

// Routes calls handle once per route with its pattern and handler, so the patterns
// reach service.Handle (and the route label of the metrics) one by one.
func Routes(e Endpoints, logger *slog.Logger, tp trace.TracerProvider, handle func(pattern string, h http.Handler)) {
	opts := func(op string) []httptransport.ServerOption {
		return []httptransport.ServerOption{
			httptransport.WithLogger(logger),
			httptransport.WithTracing(tp, op),
			httptransport.WithKitOptions(kithttp.ServerErrorEncoder(encodeError(logger))),
		}
	}
	handle("GET /items/{sku}", httptransport.NewServer(e.GetItem, decodeGetItem, httptransport.EncodeJSON, opts("inventory.GetItem")...))
	handle("POST /reservations", httptransport.NewServer(e.Reserve, decodeReserve, httptransport.EncodeJSON, opts("inventory.Reserve")...))
}

func decodeGetItem(_ context.Context, r *http.Request) (any, error) {
	return GetItemRequest{SKU: r.PathValue("sku")}, nil
}

func decodeReserve(ctx context.Context, r *http.Request) (any, error) {
	req, err := httptransport.DecodeJSONRequest[ReserveRequest](0)(ctx, r)
	if err != nil {
		return nil, err
	}
	rr := req.(ReserveRequest)
	if key := r.Header.Get(IdempotencyKeyHeader); key != "" && key != rr.OrderID {
		return nil, httptransport.BadRequest("Idempotency-Key must equal the body's orderId",
			httptransport.FieldError{Field: IdempotencyKeyHeader, Detail: "must equal orderId " + clip(rr.OrderID) + ", got " + clip(key)})
	}
	return rr, nil
}

// encodeError maps the domain errors to HTTP problems, then writes them the Paved way.
func encodeError(logger *slog.Logger) kithttp.ErrorEncoder {
	write := httptransport.ErrorEncoder(logger)
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		write(ctx, toHTTPError(err), w)
	}
}

// toHTTPError maps a domain error to an *httptransport.Error; other errors pass as
// they are (a decoder's *httptransport.Error, or an unexpected error: a 500).
func toHTTPError(err error) error {
	var (
		ve    *ValidationError
		short *InsufficientStockError
	)
	switch {
	case errors.As(err, &ve):
		fields := make([]httptransport.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = httptransport.FieldError{Field: f.Field, Detail: f.Detail}
		}
		return httptransport.BadRequest("request has invalid fields", fields...)
	case errors.As(err, &short):
		return &httptransport.Error{Code: http.StatusConflict, Msg: fmt.Sprintf("insufficient stock of %s: requested %d, available %d", short.SKU, short.Requested, short.Available), Err: err}
	case errors.Is(err, ErrUnknownSKU):
		return &httptransport.Error{Code: http.StatusNotFound, Msg: "unknown sku", Err: err}
	case errors.Is(err, ErrOrderConflict):
		return &httptransport.Error{Code: http.StatusConflict, Msg: "orderId already reserved a different sku or quantity", Err: err}
	case errors.Is(err, ErrNotOpen):
		return httptransport.Unavailable("the stock is not loaded yet", err)
	}
	return err
}
