package memory

import (
	"bytes"
	"context"

	"github.com/paved-road/paved/catalog/store"
)

// The outboxes live in Store.outboxes, guarded by Store.mu. They are as durable as the
// rest of a memory store: until the process ends.

type outbox struct {
	next    uint64
	entries []store.OutboxEntry
}

var _ store.Outbox = (*Store)(nil)

// Enqueue implements [store.Outbox].
func (s *Store) Enqueue(ctx context.Context, box string, payload []byte) (uint64, error) {
	if err := store.CheckOutbox(box, payload, -1); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if s.outboxes == nil {
		s.outboxes = map[string]*outbox{}
	}
	o := s.outboxes[box]
	if o == nil {
		o = &outbox{}
		s.outboxes[box] = o
	}
	o.next++
	o.entries = append(o.entries, store.OutboxEntry{Seq: o.next, Payload: bytes.Clone(payload)})
	return o.next, nil
}

// Pending implements [store.Outbox].
func (s *Store) Pending(ctx context.Context, box string, limit int) ([]store.OutboxEntry, error) {
	if err := store.CheckOutbox(box, nil, limit); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []store.OutboxEntry{}
	if o := s.outboxes[box]; o != nil {
		for _, e := range o.entries[:min(limit, len(o.entries))] {
			out = append(out, store.OutboxEntry{Seq: e.Seq, Payload: bytes.Clone(e.Payload)})
		}
	}
	return out, nil
}

// Ack implements [store.Outbox].
func (s *Store) Ack(ctx context.Context, box string, seq uint64) error {
	if err := store.CheckOutbox(box, nil, -1); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if o := s.outboxes[box]; o != nil {
		for i, e := range o.entries {
			if e.Seq == seq {
				o.entries = append(o.entries[:i:i], o.entries[i+1:]...)
				break
			}
		}
	}
	return nil
}
