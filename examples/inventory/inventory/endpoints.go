package inventory

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kit/kit/endpoint"
)

// Endpoints are inventory's go-kit endpoints, transport-agnostic: they take and return
// the request and response types below, and return domain errors that the transport
// maps to its own answers.
type Endpoints struct {
	// GetItem takes a [GetItemRequest] and returns an [Item].
	GetItem endpoint.Endpoint
	// Reserve takes a [ReserveRequest] and returns a [ReserveResponse].
	Reserve endpoint.Endpoint
}

// GetItemRequest asks for the stock of one SKU.
type GetItemRequest struct {
	SKU string
}

// Item is the stock of one SKU.
type Item struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

// ReserveRequest asks to reserve stock for an order; the body of POST /reservations.
type ReserveRequest struct {
	OrderID  string `json:"orderId"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ReserveResponse is the reservation made (or found again, Replayed) for an order.
type ReserveResponse struct {
	Reservation
	// Replayed is true when the order's reservation already existed.
	Replayed bool `json:"-"`
}

// StatusCode is 201 Created, for go-kit's StatusCoder: a replayed reservation answers
// exactly as the first did.
func (ReserveResponse) StatusCode() int { return http.StatusCreated }

// Headers marks a replayed answer with Idempotent-Replayed: true, for go-kit's Headerer.
func (r ReserveResponse) Headers() http.Header {
	if r.Replayed {
		return http.Header{"Idempotent-Replayed": {"true"}}
	}
	return nil
}

// FieldProblem is one invalid field of a request.
type FieldProblem struct {
	Field  string
	Detail string
}

// ValidationError lists the invalid fields of a request.
type ValidationError struct {
	Fields []FieldProblem
}

// Error lists the fields and what is wrong with each.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Detail
	}
	return "inventory: invalid request: " + strings.Join(parts, "; ")
}

// Validate returns a *[ValidationError] naming every invalid field, or nil.
func (r ReserveRequest) Validate() error {
	var v ValidationError
	switch {
	case r.OrderID == "":
		v.Fields = append(v.Fields, FieldProblem{"orderId", "is required"})
	case len(r.OrderID) > 64 || strings.ContainsFunc(r.OrderID, func(c rune) bool { return c <= ' ' || c > '~' }):
		v.Fields = append(v.Fields, FieldProblem{"orderId", "must be 1 to 64 printable ASCII characters without spaces"})
	}
	if msg := checkSKU(r.SKU); msg != "" {
		v.Fields = append(v.Fields, FieldProblem{"sku", msg})
	}
	if r.Quantity < 1 || r.Quantity > MaxQuantity {
		v.Fields = append(v.Fields, FieldProblem{"quantity", fmt.Sprintf("must be from 1 to %d, got %d", MaxQuantity, r.Quantity)})
	}
	if len(v.Fields) > 0 {
		return &v
	}
	return nil
}

// ValidSKU reports whether sku is a valid SKU: 1 to 64 lower-case letters, digits, '-'
// and '_'.
func ValidSKU(sku string) bool { return checkSKU(sku) == "" }

func checkSKU(sku string) string {
	if sku == "" {
		return "is required"
	}
	if len(sku) > 64 {
		return "must be at most 64 characters"
	}
	for _, c := range sku {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("must hold only lower-case letters, digits, '-' and '_', got %q", clip(sku))
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// MakeEndpoints returns the endpoints over store.
func MakeEndpoints(store *Store) Endpoints {
	return Endpoints{
		GetItem: func(ctx context.Context, request any) (any, error) {
			req := request.(GetItemRequest)
			if msg := checkSKU(req.SKU); msg != "" {
				return nil, &ValidationError{Fields: []FieldProblem{{"sku", msg}}}
			}
			n, err := store.Available(req.SKU)
			if err != nil {
				return nil, err
			}
			return Item{SKU: req.SKU, Available: n}, nil
		},
		Reserve: func(ctx context.Context, request any) (any, error) {
			req := request.(ReserveRequest)
			if err := req.Validate(); err != nil {
				return nil, err
			}
			r, replayed, err := store.Reserve(req.OrderID, req.SKU, req.Quantity)
			if err != nil {
				return nil, err
			}
			return ReserveResponse{Reservation: r, Replayed: replayed}, nil
		},
	}
}
