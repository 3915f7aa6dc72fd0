package notifier

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel/trace"
)

// Endpoints are the service's go-kit endpoints, transport-agnostic.
type Endpoints struct {
	// Notify takes an [OrderPlaced] and returns the [Notification] sent; an invalid
	// event returns a *[ValidationError].
	Notify endpoint.Endpoint
	// ListNotifications takes a [ListRequest] and returns a [ListResponse].
	ListNotifications endpoint.Endpoint
}

// ListRequest asks for the last notifications.
type ListRequest struct{}

// ListResponse is the last notifications, the most recent first, and how many were sent.
type ListResponse struct {
	Notifications []Notification `json:"notifications"`
	Total         int            `json:"total"`
}

// ValidationError lists what is wrong with an event: it can never be processed, so
// the transport sends it to the dead-letter subject at once.
type ValidationError struct {
	Problems []string
}

// Error lists the problems.
func (e *ValidationError) Error() string {
	return "notifier: invalid event: " + strings.Join(e.Problems, "; ")
}

// Validate returns a *[ValidationError] naming every invalid field, or nil.
func (e OrderPlaced) Validate() error {
	var v ValidationError
	if e.OrderID == "" {
		v.Problems = append(v.Problems, "orderId is required")
	}
	if e.SKU == "" {
		v.Problems = append(v.Problems, "sku is required")
	}
	if e.Quantity < 1 {
		v.Problems = append(v.Problems, fmt.Sprintf("quantity must be at least 1, got %d", e.Quantity))
	}
	if len(v.Problems) > 0 {
		return &v
	}
	return nil
}

// MakeEndpoints returns the endpoints over log. Notify sends a notification by logging
// it on logger (a real service would call its mail or push provider here, under a
// resilience policy) and records it in log.
func MakeEndpoints(log *Log, logger *slog.Logger) Endpoints {
	return Endpoints{
		Notify: func(ctx context.Context, request any) (any, error) {
			e := request.(OrderPlaced)
			if err := e.Validate(); err != nil {
				return nil, err
			}
			n := Notification{
				OrderID: e.OrderID, SKU: e.SKU, Quantity: e.Quantity, SentAt: time.Now().UTC(),
				Message: fmt.Sprintf("Your order %s of %d × %s is confirmed.", e.OrderID, e.Quantity, e.SKU),
			}
			if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
				n.TraceID = sc.TraceID().String()
			}
			logger.InfoContext(ctx, "notification sent", "order_id", n.OrderID, "sku", n.SKU, "quantity", n.Quantity, "message", n.Message)
			log.Add(n)
			return n, nil
		},
		ListNotifications: func(ctx context.Context, request any) (any, error) {
			list, total := log.List()
			return ListResponse{Notifications: list, Total: total}, nil
		},
	}
}
