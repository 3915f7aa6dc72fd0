package orders

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
)

// MaxQuantity is the largest quantity one order may ask for.
const MaxQuantity = 1_000_000

// Endpoints are orders' go-kit endpoints, transport-agnostic.
type Endpoints struct {
	// PlaceOrder takes a [PlaceOrderRequest] and returns a [PlaceOrderResponse].
	PlaceOrder endpoint.Endpoint
	// GetOrder takes a [GetOrderRequest] and returns an [Order].
	GetOrder endpoint.Endpoint
}

// PlaceOrderRequest is the body of POST /orders.
type PlaceOrderRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// PlaceOrderResponse is the order placed: 201 Created with its Location.
type PlaceOrderResponse struct {
	Order
}

// StatusCode is 201 Created, for go-kit's StatusCoder.
func (PlaceOrderResponse) StatusCode() int { return http.StatusCreated }

// Headers sets Location to the order's URL, for go-kit's Headerer.
func (r PlaceOrderResponse) Headers() http.Header {
	return http.Header{"Location": {"/orders/" + r.ID}}
}

// GetOrderRequest asks for one order.
type GetOrderRequest struct {
	ID string
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
	return "orders: invalid request: " + strings.Join(parts, "; ")
}

// Validate returns a *[ValidationError] naming every invalid field, or nil.
func (r PlaceOrderRequest) Validate() error {
	var v ValidationError
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

// checkSKU returns what is wrong with sku, or "": the rule inventory applies too.
func checkSKU(sku string) string {
	if sku == "" {
		return "is required"
	}
	if len(sku) > 64 {
		return "must be at most 64 characters"
	}
	for _, c := range sku {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("must hold only lower-case letters, digits, '-' and '_', got %q", sku)
		}
	}
	return ""
}

// NewOrderID returns a new random order id, "ord-" and 16 hex digits.
func NewOrderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "ord-" + hex.EncodeToString(b[:])
}

// MakeEndpoints returns the endpoints over store, reserving stock through reserve (the
// endpoint [NewReserveEndpoint] returns) and announcing each order placed through
// publish (the endpoint [NewPublishEndpoint] returns; nil publishes nothing). newID
// makes order ids; nil means [NewOrderID].
func MakeEndpoints(store *Store, reserve, publish endpoint.Endpoint, newID func() string) Endpoints {
	if newID == nil {
		newID = NewOrderID
	}
	return Endpoints{
		PlaceOrder: func(ctx context.Context, request any) (any, error) {
			req := request.(PlaceOrderRequest)
			if err := req.Validate(); err != nil {
				return nil, err
			}
			if err := store.Ping(ctx); err != nil {
				return nil, err
			}
			id := newID()
			resp, err := reserve(ctx, ReserveRequest{OrderID: id, SKU: req.SKU, Quantity: req.Quantity})
			if err != nil {
				return nil, err
			}
			res := resp.(Reservation)
			if publish != nil {
				// Announced before it is stored: an order the client sees placed has its
				// event in the stream. A service with a database would write the event to
				// an outbox table in the order's transaction instead.
				e := OrderPlaced{OrderID: id, SKU: req.SKU, Quantity: req.Quantity, ReservationID: res.ReservationID, PlacedAt: time.Now().UTC()}
				if _, err := publish(ctx, e); err != nil {
					return nil, err
				}
			}
			o := Order{ID: id, SKU: req.SKU, Quantity: req.Quantity, Status: StatusConfirmed, ReservationID: res.ReservationID}
			if err := store.Put(o); err != nil {
				return nil, err
			}
			return PlaceOrderResponse{Order: o}, nil
		},
		GetOrder: func(ctx context.Context, request any) (any, error) {
			return store.Get(request.(GetOrderRequest).ID)
		},
	}
}
