package natsjs

import (
	"context"
	"sync"
	"time"
)

// IdempotencyStore remembers the ids of the messages a consumer has processed, so that
// a message delivered again (at-least-once: an acknowledgement lost, a handler cut at
// the shutdown) is not processed twice. [MemoryStore] keeps them in the process; a real
// service plugs its own store, ideally the database the handler writes to, recording
// the id in the same transaction as the handler's effect.
type IdempotencyStore interface {
	// Processed reports whether id was recorded as processed.
	Processed(ctx context.Context, id string) (bool, error)
	// MarkProcessed records id as processed.
	MarkProcessed(ctx context.Context, id string) error
}

// Idempotency makes a handler idempotent on the message id (Message.ID: the publisher's
// Nats-Msg-Id). The zero value is not usable: Store is required.
type Idempotency struct {
	// Store remembers processed ids.
	Store IdempotencyStore
	// OnDuplicate, when set, is called for a message whose id Store knows, which is
	// then acknowledged without calling the handler.
	OnDuplicate func(ctx context.Context, m *Message)
}

// Wrap returns h made idempotent: a message whose id Store has recorded is
// acknowledged without calling h; after h succeeds, the id is recorded. A Store error
// fails the attempt (the message is delivered again later). Between h's success and
// the record, a crash leaves the id unrecorded: keep h's effect and the record in one
// transaction where it matters.
func (i Idempotency) Wrap(h Handler) Handler {
	return func(ctx context.Context, m *Message) error {
		done, err := i.Store.Processed(ctx, m.ID)
		if err != nil {
			return err
		}
		if done {
			if i.OnDuplicate != nil {
				i.OnDuplicate(ctx, m)
			}
			return nil
		}
		if err := h(ctx, m); err != nil {
			return err
		}
		return i.Store.MarkProcessed(ctx, m.ID)
	}
}

// Defaults of NewMemoryStore's zero arguments.
const (
	DefaultIdempotencyTTL     = 10 * time.Minute
	DefaultIdempotencyMaxKeys = 100000
)

// MemoryStore is an IdempotencyStore in the process's memory: ids are kept for a TTL
// and at most a bounded number of them (the oldest go first). It protects one instance
// against redeliveries within the TTL; it is lost at a restart and not shared between
// instances, so a service with several instances or effects that must never repeat
// plugs a shared store instead. Safe for concurrent use.
type MemoryStore struct {
	ttl time.Duration
	max int

	// mu guards ids and order.
	mu    sync.Mutex
	ids   map[string]time.Time // id -> expiry
	order []entry              // insertion order, a queue: order[head:] are live
	head  int
}

type entry struct {
	id     string
	expiry time.Time
}

// NewMemoryStore returns a store keeping each id for ttl (0: DefaultIdempotencyTTL)
// and at most maxKeys ids (0: DefaultIdempotencyMaxKeys).
func NewMemoryStore(ttl time.Duration, maxKeys int) *MemoryStore {
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	if maxKeys <= 0 {
		maxKeys = DefaultIdempotencyMaxKeys
	}
	return &MemoryStore{ttl: ttl, max: maxKeys, ids: map[string]time.Time{}}
}

// Processed reports whether id was recorded within the TTL.
func (s *MemoryStore) Processed(_ context.Context, id string) (bool, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	exp, ok := s.ids[id]
	return ok && now.Before(exp), nil
}

// MarkProcessed records id for the TTL, evicting the oldest id when the store is full.
func (s *MemoryStore) MarkProcessed(_ context.Context, id string) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	exp := now.Add(s.ttl)
	if _, ok := s.ids[id]; !ok && len(s.ids) >= s.max {
		s.pop()
	}
	s.ids[id] = exp
	s.order = append(s.order, entry{id, exp})
	return nil
}

// Len returns the number of ids held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	return len(s.ids)
}

// expire drops the ids whose time has passed, oldest first. s.mu is held.
func (s *MemoryStore) expire(now time.Time) {
	for s.head < len(s.order) && !now.Before(s.order[s.head].expiry) {
		s.pop()
	}
}

// pop drops the oldest entry; the id goes only if this entry is its latest record.
// s.mu is held.
func (s *MemoryStore) pop() {
	for s.head < len(s.order) {
		e := s.order[s.head]
		s.order[s.head] = entry{}
		s.head++
		if s.ids[e.id].Equal(e.expiry) {
			delete(s.ids, e.id)
			break
		}
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append(s.order[:0:0], s.order[s.head:]...)
		s.head = 0
	}
}
