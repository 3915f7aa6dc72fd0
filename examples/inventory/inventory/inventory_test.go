package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/service"
)

// TestHTTPAPI drives inventory's routes over a real socket: statuses, bodies and
// problem+json errors naming the field.
func TestHTTPAPI(t *testing.T) {
	s := startInventory(t, map[string]string{"INVENTORY_SEED": "sku-1=10,sku-2=1"})
	base := "http://" + s.HTTPAddr().String()
	tests := []struct {
		name, method, path, body string
		header                   []string
		code                     int
		want                     string // JSON body for 2xx; the field named, or a detail fragment, for errors
	}{
		{"item", "GET", "/items/sku-1", "", nil, 200, `{"sku":"sku-1","available":10}`},
		{"unknown item", "GET", "/items/sku-9", "", nil, 404, "unknown sku"},
		{"invalid sku", "GET", "/items/SKU!", "", nil, 400, "sku"},
		{"reserve", "POST", "/reservations", `{"orderId":"o-1","sku":"sku-1","quantity":3}`, nil, 201, `{"reservationId":"res-000001","sku":"sku-1","quantity":3}`},
		{"replay", "POST", "/reservations", `{"orderId":"o-1","sku":"sku-1","quantity":3}`, []string{"Idempotency-Key", "o-1"}, 201, `{"reservationId":"res-000001","sku":"sku-1","quantity":3}`},
		{"stock taken once", "GET", "/items/sku-1", "", nil, 200, `{"sku":"sku-1","available":7}`},
		{"same order, other quantity", "POST", "/reservations", `{"orderId":"o-1","sku":"sku-1","quantity":4}`, nil, 409, "orderId already reserved"},
		{"short stock", "POST", "/reservations", `{"orderId":"o-2","sku":"sku-2","quantity":2}`, nil, 409, "insufficient stock of sku-2: requested 2, available 1"},
		{"unknown sku", "POST", "/reservations", `{"orderId":"o-3","sku":"sku-9","quantity":1}`, nil, 404, "unknown sku"},
		{"zero quantity", "POST", "/reservations", `{"orderId":"o-4","sku":"sku-1","quantity":0}`, nil, 400, "quantity"},
		{"no order id", "POST", "/reservations", `{"sku":"sku-1","quantity":1}`, nil, 400, "orderId"},
		{"bad sku", "POST", "/reservations", `{"orderId":"o-5","sku":"Sku 1","quantity":1}`, nil, 400, "sku"},
		{"unknown field", "POST", "/reservations", `{"orderId":"o-6","sku":"sku-1","quantity":1,"qty":1}`, nil, 400, "qty"},
		{"wrong type", "POST", "/reservations", `{"orderId":"o-7","sku":"sku-1","quantity":"1"}`, nil, 400, "quantity"},
		{"key mismatch", "POST", "/reservations", `{"orderId":"o-8","sku":"sku-1","quantity":1}`, []string{"Idempotency-Key", "o-9"}, 400, "Idempotency-Key"},
		{"not JSON", "POST", "/reservations", `orderId=o-9`, []string{"Content-Type", "text/plain"}, 415, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := call(t, tc.method, base+tc.path, tc.body, tc.header...)
			if resp.StatusCode != tc.code {
				t.Fatalf("status: got %d, want %d: %s", resp.StatusCode, tc.code, b)
			}
			if tc.code < 300 {
				if replayed := resp.Header.Get("Idempotent-Replayed") == "true"; replayed != (tc.name == "replay") {
					t.Errorf("Idempotent-Replayed: got %v, want %v", replayed, tc.name == "replay")
				}
				if got := strings.TrimSpace(string(b)); got != tc.want {
					t.Errorf("body: got %s, want %s", got, tc.want)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type: got %q, want application/problem+json", ct)
			}
			p := decode[problem](t, b)
			if tc.code == 400 {
				if len(p.Errors) == 0 || p.Errors[0].Field != tc.want {
					t.Errorf("fields: got %+v, want %s named", p.Errors, tc.want)
				}
				return
			}
			if !strings.Contains(p.Detail, tc.want) {
				t.Errorf("detail: got %q, want it to contain %q", p.Detail, tc.want)
			}
		})
	}
}

// TestReadinessFollowsTheStore: /readyz passes once the start hook loaded the stock,
// and names the store check; compliance scores 100.
func TestReadinessFollowsTheStore(t *testing.T) {
	s := startInventory(t, nil)
	admin := "http://" + s.AdminAddr().String()
	resp, b := call(t, "GET", admin+"/readyz?verbose", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "stock-store") {
		t.Errorf("/readyz?verbose: got %d %s, want 200 naming stock-store", resp.StatusCode, b)
	}
	rep, ok := s.ComplianceReport()
	if !ok || rep.Score != 100 {
		t.Errorf("compliance: got %d (evaluated %v) failed %v, want 100", rep.Score, ok, rep.Failed)
	}
}

// TestStoreConcurrentReservations: many orders racing for the same SKU never take more
// than the stock, and each order gets at most one reservation.
func TestStoreConcurrentReservations(t *testing.T) {
	st := inventory.NewStore()
	st.Load(map[string]int{"sku-1": 50})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, short := 0, 0
	for i := range 200 {
		wg.Go(func() {
			_, replayed, err := st.Reserve(fmt.Sprintf("o-%d", i%100), "sku-1", 1)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && !replayed:
				ok++
			case errors.Is(err, inventory.ErrInsufficientStock):
				short++
			}
		})
	}
	wg.Wait()
	left, _ := st.Available("sku-1")
	if ok != 50 || left != 0 {
		t.Errorf("reservations made: got %d with %d left, want 50 with 0 left", ok, left)
	}
}

// TestStoreClosed: before Load and after Close every call fails with ErrNotOpen.
func TestStoreClosed(t *testing.T) {
	var st inventory.Store
	if err := st.Ping(context.Background()); !errors.Is(err, inventory.ErrNotOpen) {
		t.Errorf("Ping before Load: got %v, want ErrNotOpen", err)
	}
	st.Load(map[string]int{"sku-1": 1})
	if err := st.Ping(context.Background()); err != nil {
		t.Errorf("Ping after Load: got %v, want nil", err)
	}
	st.Close()
	if _, _, err := st.Reserve("o-1", "sku-1", 1); !errors.Is(err, inventory.ErrNotOpen) {
		t.Errorf("Reserve after Close: got %v, want ErrNotOpen", err)
	}
}

func TestParseSeed(t *testing.T) {
	got, err := inventory.ParseSeed(" sku-1=10, sku_2 = 0 ")
	if err != nil || len(got) != 2 || got["sku-1"] != 10 || got["sku_2"] != 0 {
		t.Errorf("got %v %v, want sku-1=10 sku_2=0", got, err)
	}
	for _, bad := range []string{"sku-1", "sku-1=-1", "sku-1=ten", "SKU=1", "sku-1=1,sku-1=2", "=3", "sku-1=1000001"} {
		if _, err := inventory.ParseSeed(bad); err == nil {
			t.Errorf("ParseSeed(%q): got nil, want an error", bad)
		}
	}
}

// TestBadSeedIsAConfigError: an invalid INVENTORY_SEED stops Load with a problem
// naming the variable and its value.
func TestBadSeedIsAConfigError(t *testing.T) {
	_, err := service.Load[inventory.Config](service.WithEnviron(map[string]string{"INVENTORY_SEED": "sku-1=lots"}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != "INVENTORY_SEED" || ce.Problems[0].Value != "sku-1=lots" {
		t.Fatalf("got %v, want one problem naming INVENTORY_SEED=sku-1=lots", err)
	}
	if !strings.Contains(ce.Problems[0].Msg, "whole number") {
		t.Errorf("message: got %q, want it to say what is valid", ce.Problems[0].Msg)
	}
}
