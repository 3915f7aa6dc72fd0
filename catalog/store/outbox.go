package store

import (
	"context"
	"fmt"

	"github.com/paved-road/paved/catalog"
)

// MaxOutboxPayload bounds the size of one outbox entry.
const MaxOutboxPayload = 256 << 10

// OutboxEntry is one message waiting in an outbox.
type OutboxEntry struct {
	// Seq orders the entries of one outbox: each Enqueue gets a larger one than every
	// entry enqueued before it in that outbox, also across a restart.
	Seq uint64 `json:"seq"`
	// Payload is the message as it was enqueued.
	Payload []byte `json:"payload"`
}

// Outbox is a durable queue of messages for another system (the catalog's push to
// Atlassian Compass): a message is enqueued in the store next to the change it reports
// and stays there, across restarts of the catalog and outages of the other system,
// until its sender acknowledges it. Every implementation in this module (memory, bbolt,
// etcd) also implements Outbox; store/storetest checks it.
//
// Delivery is at least once: several catalog processes over one store may each read
// an entry before one of them acknowledges it.
type Outbox interface {
	// Enqueue appends payload (1 to [MaxOutboxPayload] bytes) to the outbox named box
	// (a DNS label) and returns its sequence number.
	Enqueue(ctx context.Context, box string, payload []byte) (seq uint64, err error)
	// Pending returns up to limit (1 or more) of the oldest entries of box, in
	// sequence order; none (an empty slice) when the box is empty or has never been
	// written.
	Pending(ctx context.Context, box string, limit int) ([]OutboxEntry, error)
	// Ack removes the entry seq of box. Acknowledging an entry that is gone (removed
	// before, by this process or another) is no error.
	Ack(ctx context.Context, box string, seq uint64) error
}

// CheckOutbox returns nil, or a [*catalog.ValidationError] naming what is wrong with
// the arguments of an Outbox call: the box name, the payload size (when payload is not
// nil) and limit (when it is not -1).
func CheckOutbox(box string, payload []byte, limit int) error {
	var errs []catalog.FieldError
	if !catalog.IsDNSLabel(box) {
		errs = append(errs, catalog.FieldError{Field: "box", Message: fmt.Sprintf("must be a DNS label, got %q", catalog.Clip(box))})
	}
	if payload != nil && (len(payload) == 0 || len(payload) > MaxOutboxPayload) {
		errs = append(errs, catalog.FieldError{Field: "payload", Message: fmt.Sprintf("must be 1 to %d bytes, got %d", MaxOutboxPayload, len(payload))})
	}
	if limit != -1 && limit < 1 {
		errs = append(errs, catalog.FieldError{Field: "limit", Message: fmt.Sprintf("must be 1 or more, got %d", limit)})
	}
	if errs != nil {
		return &catalog.ValidationError{Errors: errs}
	}
	return nil
}
