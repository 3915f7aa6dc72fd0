package orders

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// The events orders publishes: their subject, and the stream that keeps them.
const (
	// SubjectOrderPlaced is the subject of an [OrderPlaced] event.
	SubjectOrderPlaced = "orders.placed"
	// Stream is the JetStream stream of orders' events (every orders.> subject), which
	// orders declares at its start.
	Stream = "ORDERS"
)

// ErrEventsUnavailable reports an order whose event could not be published: the
// broker did not acknowledge it in time, or the publish breaker is open. The order is
// not placed (its stock stays reserved for the order id); the client may retry.
var ErrEventsUnavailable = errors.New("orders: the order's event could not be published")

// OrderPlaced is the body (JSON) of an orders.placed event, published once inventory
// reserved an order's stock. Its message id is the order id, so a retried publish is
// stored once.
type OrderPlaced struct {
	OrderID       string    `json:"orderId"`
	SKU           string    `json:"sku"`
	Quantity      int       `json:"quantity"`
	ReservationID string    `json:"reservationId"`
	PlacedAt      time.Time `json:"placedAt"`
}

// OrderPlacedSchema is the JSON Schema of an [OrderPlaced] body, published in the
// catalog with the event API orders.placed.
const OrderPlacedSchema = `{
  "type": "object",
  "required": ["orderId", "sku", "quantity", "reservationId", "placedAt"],
  "properties": {
    "orderId": {"type": "string"},
    "sku": {"type": "string"},
    "quantity": {"type": "integer", "minimum": 1},
    "reservationId": {"type": "string"},
    "placedAt": {"type": "string", "format": "date-time"}
  }
}`

// OrderPlacedEvent declares orders.placed for the catalog: its subject, summary and
// schema (natsjs.Client.Publishes).
func OrderPlacedEvent() natsjs.Event {
	return natsjs.Event{Subject: SubjectOrderPlaced, Summary: "An order was placed: inventory reserved its stock.",
		Schema: json.RawMessage(OrderPlacedSchema)}
}

// StreamConfig is the ORDERS stream: every orders.> subject on file, kept a week,
// duplicates (same message id) dropped within two minutes.
func StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{"orders.>"},
		Storage:    jetstream.FileStorage,
		MaxAge:     7 * 24 * time.Hour,
		Duplicates: 2 * time.Minute,
	}
}

// EventsConfig is orders' connection to NATS, optional: with NATS_URL unset orders
// publishes no event and needs no broker. Set, it is validated as natsjs.Config (every
// NATS_* variable).
type EventsConfig struct {
	natsjs.Config
}

// Enabled reports whether NATS_URL is set.
func (c EventsConfig) Enabled() bool { return strings.TrimSpace(c.URL) != "" }

// Validate checks the NATS_* settings when NATS_URL is set, and nothing otherwise.
func (c EventsConfig) Validate() error {
	if !c.Enabled() {
		return nil
	}
	return c.Config.Validate()
}

// Publisher is what [NewPublishEndpoint] publishes through: *natsjs.Client.
type Publisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error)
}

// NewPublishEndpoint returns the go-kit endpoint that publishes an [OrderPlaced] (its
// request) on orders.placed through p, with the order id as the message id, and
// returns the stream's acknowledgement. Its errors match [ErrEventsUnavailable].
func NewPublishEndpoint(p Publisher) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		e := request.(OrderPlaced)
		body, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		msg := &nats.Msg{Subject: SubjectOrderPlaced, Data: body, Header: nats.Header{}}
		msg.Header.Set(natsjs.HeaderMsgID, e.OrderID)
		msg.Header.Set("Content-Type", "application/json")
		ack, err := p.PublishMsg(ctx, msg)
		if err != nil {
			return nil, errors.Join(ErrEventsUnavailable, err)
		}
		return ack, nil
	}
}
