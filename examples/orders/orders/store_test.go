package orders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paved-road/paved/examples/orders/orders"
)

// TestStore: closed until Open, Get finds what Put stored, unknown ids are ErrNotFound,
// and Close makes every call fail with ErrNotOpen (readiness then fails).
func TestStore(t *testing.T) {
	var st orders.Store
	if err := st.Ping(context.Background()); !errors.Is(err, orders.ErrNotOpen) {
		t.Errorf("Ping before Open: got %v, want ErrNotOpen", err)
	}
	st.Open()
	o := orders.Order{ID: "ord-1", SKU: "sku-1", Quantity: 2, Status: orders.StatusConfirmed, ReservationID: "res-1"}
	if err := st.Put(o); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("ord-1"); err != nil || got != o {
		t.Errorf("Get: got %+v %v, want %+v", got, err, o)
	}
	if _, err := st.Get("ord-2"); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("Get unknown: got %v, want ErrNotFound", err)
	}
	st.Close()
	if err := st.Ping(context.Background()); !errors.Is(err, orders.ErrNotOpen) {
		t.Errorf("Ping after Close: got %v, want ErrNotOpen", err)
	}
	if err := st.Put(o); !errors.Is(err, orders.ErrNotOpen) {
		t.Errorf("Put after Close: got %v, want ErrNotOpen", err)
	}
}

// TestNewOrderID: ids are "ord-" and 16 hex digits, and differ.
func TestNewOrderID(t *testing.T) {
	a, b := orders.NewOrderID(), orders.NewOrderID()
	if len(a) != 20 || a[:4] != "ord-" || a == b {
		t.Errorf("got %q and %q, want two different ord-<16 hex>", a, b)
	}
}
