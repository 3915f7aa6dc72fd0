package inventory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
)

// MaxQuantity is the largest quantity of one SKU the store holds or reserves at once.
const MaxQuantity = 1_000_000

// Errors of the store, matched with errors.Is.
var (
	// ErrUnknownSKU reports a SKU the store has never stocked.
	ErrUnknownSKU = errors.New("inventory: unknown sku")
	// ErrNotOpen reports a store that is not loaded yet, or closed.
	ErrNotOpen = errors.New("inventory: store is not open")
	// ErrOrderConflict reports an orderId already used for a different SKU or quantity.
	ErrOrderConflict = errors.New("inventory: orderId already reserved a different sku or quantity")
)

// InsufficientStockError reports a reservation larger than the stock available. It
// matches [ErrInsufficientStock].
type InsufficientStockError struct {
	SKU       string
	Requested int
	Available int
}

// ErrInsufficientStock is matched by every *[InsufficientStockError].
var ErrInsufficientStock = errors.New("inventory: insufficient stock")

// Error says what was asked and what is left.
func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("inventory: insufficient stock of %q: requested %d, available %d", e.SKU, e.Requested, e.Available)
}

// Is reports whether target is [ErrInsufficientStock].
func (e *InsufficientStockError) Is(target error) bool { return target == ErrInsufficientStock }

// Reservation is stock set aside for an order.
type Reservation struct {
	ReservationID string `json:"reservationId"`
	OrderID       string `json:"-"`
	SKU           string `json:"sku"`
	Quantity      int    `json:"quantity"`
}

// Store holds the stock and reservations in memory. It is safe for concurrent use.
// The zero value is an empty, closed store: [Store.Load] opens it.
type Store struct {
	// mu guards every field below.
	mu           sync.Mutex
	open         bool
	stock        map[string]int
	reservations map[string]Reservation // by order id
	seq          int
}

// NewStore returns an empty, closed store; [Store.Load] opens it.
func NewStore() *Store { return &Store{} }

// Load replaces the stock with a copy of stock, forgets every reservation and opens
// the store.
func (s *Store) Load(stock map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stock = maps.Clone(stock)
	if s.stock == nil {
		s.stock = map[string]int{}
	}
	s.reservations = map[string]Reservation{}
	s.open = true
}

// Close closes the store: Ping and every read and write then fail with [ErrNotOpen].
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

// Available returns the quantity of sku available, or [ErrUnknownSKU].
func (s *Store) Available(sku string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return 0, ErrNotOpen
	}
	n, ok := s.stock[sku]
	if !ok {
		return 0, ErrUnknownSKU
	}
	return n, nil
}

// Reserve takes quantity of sku for orderID. It is idempotent by orderID: a second call
// with the same orderID, SKU and quantity returns the first reservation (and replayed
// true) without taking stock again; with a different SKU or quantity it fails with
// [ErrOrderConflict]. Short stock is an *[InsufficientStockError]; nothing is taken.
func (s *Store) Reserve(orderID, sku string, quantity int) (r Reservation, replayed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return Reservation{}, false, ErrNotOpen
	}
	if prev, ok := s.reservations[orderID]; ok {
		if prev.SKU != sku || prev.Quantity != quantity {
			return Reservation{}, false, ErrOrderConflict
		}
		return prev, true, nil
	}
	avail, ok := s.stock[sku]
	if !ok {
		return Reservation{}, false, ErrUnknownSKU
	}
	if avail < quantity {
		return Reservation{}, false, &InsufficientStockError{SKU: sku, Requested: quantity, Available: avail}
	}
	s.stock[sku] = avail - quantity
	s.seq++
	r = Reservation{ReservationID: fmt.Sprintf("res-%06d", s.seq), OrderID: orderID, SKU: sku, Quantity: quantity}
	s.reservations[orderID] = r
	return r, false, nil
}
