package orders

import (
	"context"
	"errors"
	"sync"
)

// Errors of the store, matched with errors.Is.
var (
	// ErrNotFound reports an order id the store does not hold.
	ErrNotFound = errors.New("orders: order not found")
	// ErrNotOpen reports a store that is not opened yet, or closed.
	ErrNotOpen = errors.New("orders: store is not open")
)

// Order statuses.
const (
	StatusConfirmed = "confirmed"
)

// Order is a placed order.
type Order struct {
	ID            string `json:"id"`
	SKU           string `json:"sku"`
	Quantity      int    `json:"quantity"`
	Status        string `json:"status"`
	ReservationID string `json:"reservationId"`
}

// Store holds the orders in memory. It is safe for concurrent use. The zero value is
// an empty, closed store: [Store.Open] opens it.
type Store struct {
	// mu guards every field below.
	mu     sync.Mutex
	open   bool
	orders map[string]Order
}

// NewStore returns an empty, closed store.
func NewStore() *Store { return &Store{} }

// Open opens the store, keeping the orders it holds.
func (s *Store) Open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = map[string]Order{}
	}
	s.open = true
}

// Close closes the store: Ping, Get and Put then fail with [ErrNotOpen].
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = false
}

// Ping returns nil when the store is open and [ErrNotOpen] otherwise; it is the
// service's readiness check.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return ErrNotOpen
	}
	return ctx.Err()
}

// Put stores o under o.ID.
func (s *Store) Put(o Order) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return ErrNotOpen
	}
	s.orders[o.ID] = o
	return nil
}

// Get returns the order with id, or [ErrNotFound].
func (s *Store) Get(id string) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return Order{}, ErrNotOpen
	}
	o, ok := s.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	return o, nil
}
