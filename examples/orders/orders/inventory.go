package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
)

// ReserveRequest is what orders asks inventory to reserve: the body of inventory's
// POST /reservations. The order id is also sent as the Idempotency-Key, so the policy
// may retry the POST and inventory reserves once.
type ReserveRequest struct {
	OrderID  string `json:"orderId"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Reservation is inventory's answer to a reservation.
type Reservation struct {
	ReservationID string `json:"reservationId"`
	SKU           string `json:"sku"`
	Quantity      int    `json:"quantity"`
}

// Errors of the calls to inventory, matched with errors.Is; the transport maps them to
// 409, 400 and 503 answers.
var (
	// ErrInsufficientStock reports that inventory had not enough stock (its 409).
	ErrInsufficientStock = errors.New("orders: insufficient stock")
	// ErrUnknownSKU reports a SKU inventory does not stock (its 404).
	ErrUnknownSKU = errors.New("orders: unknown sku")
	// ErrInventoryUnavailable reports that inventory could not be reached or failed:
	// its breaker is open, it is down, it timed out or answered 5xx.
	ErrInventoryUnavailable = errors.New("orders: inventory is unavailable")
)

// MinRetryAfter is the shortest Retry-After orders asks for when inventory is
// unavailable.
const MinRetryAfter = time.Second

// UnavailableError is the error of a call to inventory that could not succeed now. It
// matches [ErrInventoryUnavailable] and carries the cause (for the log only) and when
// to retry.
type UnavailableError struct {
	Cause error
	Wait  time.Duration
}

// Error describes the cause, for logs.
func (e *UnavailableError) Error() string {
	return "orders: inventory is unavailable: " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Cause }

// Is reports whether target is [ErrInventoryUnavailable].
func (e *UnavailableError) Is(target error) bool { return target == ErrInventoryUnavailable }

// RetryAfter returns when a retry may succeed: an open breaker's wait or inventory's
// Retry-After, and at least [MinRetryAfter].
func (e *UnavailableError) RetryAfter() time.Duration { return max(e.Wait, MinRetryAfter) }

// NewReserveEndpoint returns the go-kit client endpoint of inventory's POST
// /reservations over c (built with service.Client, so it has discovery, the breaker,
// retries, timeouts, tracing and metrics). It takes a [ReserveRequest] and returns a
// [Reservation], or an error matching [ErrInsufficientStock], [ErrUnknownSKU] or
// [ErrInventoryUnavailable].
func NewReserveEndpoint(c *httptransport.Client) endpoint.Endpoint {
	e := c.Endpoint(http.MethodPost, "/reservations", encodeReserve, httptransport.DecodeJSONResponse[Reservation]())
	return func(ctx context.Context, request any) (any, error) {
		resp, err := e(ctx, request)
		if err != nil {
			return nil, classifyInventoryError(err)
		}
		return resp, nil
	}
}

// encodeReserve writes the request as JSON with a replayable body (GetBody), which the
// resilience policy needs to retry a POST, and the order id as Idempotency-Key.
// go-kit's EncodeJSONRequest sets no GetBody, so the POST would never be retried.
func encodeReserve(_ context.Context, r *http.Request, request any) error {
	req := request.(ReserveRequest)
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", req.OrderID)
	r.ContentLength = int64(len(b))
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

// classifyInventoryError maps what the client endpoint returned to orders' errors.
func classifyInventoryError(err error) error {
	var re *httptransport.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.Code == http.StatusConflict:
			detail := ""
			if re.Problem != nil {
				detail = re.Problem.Detail
			}
			return &insufficientStock{detail: detail, cause: err}
		case re.Code == http.StatusNotFound:
			return ErrUnknownSKU
		case re.Code >= 500 || re.Code == http.StatusTooManyRequests:
			return &UnavailableError{Cause: err, Wait: re.Wait}
		}
		return err // another 4xx: a bug in this client, answered 500
	}
	if errors.Is(err, context.Canceled) {
		return err // the caller went away
	}
	wait, _ := resilience.RetryAfter(err)
	return &UnavailableError{Cause: err, Wait: wait}
}

// insufficientStock matches ErrInsufficientStock and keeps inventory's detail.
type insufficientStock struct {
	detail string
	cause  error
}

func (e *insufficientStock) Error() string {
	return "orders: insufficient stock: " + e.detail
}

func (e *insufficientStock) Is(target error) bool { return target == ErrInsufficientStock }

func (e *insufficientStock) Unwrap() error { return e.cause }
