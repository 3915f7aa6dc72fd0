package notifier

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// The events the service consumes: orders.placed, kept by orders in its ORDERS stream
// (orders declares the stream at its start; start it first).
const (
	// Stream is the stream the consumer reads.
	Stream = "ORDERS"
	// Subject is the subject it consumes.
	Subject = "orders.placed"
)

// OrderPlaced is the body of an orders.placed event, as far as this service reads it
// (the publisher may add fields; unknown ones are ignored).
type OrderPlaced struct {
	OrderID       string    `json:"orderId"`
	SKU           string    `json:"sku"`
	Quantity      int       `json:"quantity"`
	ReservationID string    `json:"reservationId"`
	PlacedAt      time.Time `json:"placedAt"`
}

// Consumer is the durable consumer of the service named name: durable name name (its
// instances share the messages), Subject in Stream, dead-letter subject dlq.<name>. Its
// concurrency, attempts and backoff are the NATS_CONSUMER_* settings.
func Consumer(name string) natsjs.ConsumerConfig {
	return natsjs.ConsumerConfig{
		Stream:            Stream,
		Durable:           name,
		Subject:           Subject,
		DeadLetterSubject: DeadLetterSubject(name),
		// Setup wraps the handler in natsjs.Idempotency.
		Idempotent: true,
	}
}

// DeadLetterSubject is the dead-letter subject of the service named name: dlq.<name>.
func DeadLetterSubject(name string) string { return "dlq." + name }

// DeadLetterStream is the stream that keeps the service's dead letters (DLQ_<NAME>,
// '-' made '_'), on file for 30 days, for someone to look at and replay.
func DeadLetterStream(name string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:     "DLQ_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")),
		Subjects: []string{DeadLetterSubject(name)},
		Storage:  jetstream.FileStorage,
		MaxAge:   30 * 24 * time.Hour,
	}
}
