package core

import (
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

func TestDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Record{Instance: catalog.Instance{LastHeartbeat: t0, TTLSeconds: 10}}
	tests := []struct {
		at             time.Duration
		expired        bool
		grace          time.Duration
		expire, remove bool
	}{
		{9 * time.Second, false, 0, false, false},
		{10 * time.Second, false, 0, true, false},
		{15 * time.Second, true, 0, false, false},
		{20 * time.Second, true, 0, false, true},
		{20 * time.Second, false, 0, false, true},
		{20 * time.Second, true, time.Minute, false, false},
		{70 * time.Second, true, time.Minute, false, true},
	}
	for _, tt := range tests {
		r.Expired = tt.expired
		e, rm := Due(r, t0.Add(tt.at), time.Time{}, tt.grace)
		if e != tt.expire || rm != tt.remove {
			t.Errorf("at %v expired %v grace %v: got %v %v, want %v %v", tt.at, tt.expired, tt.grace, e, rm, tt.expire, tt.remove)
		}
	}
}

// A store opened after a long outage removes nothing before one TTL after it opened.
func TestDueAfterRestart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Record{Instance: catalog.Instance{LastHeartbeat: t0, TTLSeconds: 9}}
	opened := t0.Add(36 * time.Second) // down for 3 TTLs after the last heartbeat's TTL
	tests := []struct {
		at             time.Duration // after opened
		expired        bool
		expire, remove bool
	}{
		{0, false, true, false},
		{time.Second, true, false, false},
		{8 * time.Second, true, false, false},
		{9 * time.Second, true, false, true},
	}
	for _, tt := range tests {
		r.Expired = tt.expired
		e, rm := Due(r, opened.Add(tt.at), opened, 0)
		if e != tt.expire || rm != tt.remove {
			t.Errorf("%v after opening, expired %v: got %v %v, want %v %v", tt.at, tt.expired, e, rm, tt.expire, tt.remove)
		}
	}
}

func TestViewAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Record{Instance: catalog.Instance{LastHeartbeat: t0, TTLSeconds: 10, Status: catalog.StatusPassing}}
	if v := r.ViewAt(t0.Add(9 * time.Second)); v.Status != catalog.StatusPassing || v.Expired {
		t.Fatalf("within the TTL: got %s %v, want passing false", v.Status, v.Expired)
	}
	if v := r.ViewAt(t0.Add(10 * time.Second)); v.Status != catalog.StatusCritical || !v.Expired {
		t.Fatalf("past the TTL: got %s %v, want critical true", v.Status, v.Expired)
	}
	if r.Expired {
		t.Fatal("got the record marked expired by a view, want it unchanged")
	}
}

func TestSetChanged(t *testing.T) {
	base := catalog.Instance{Version: "1", TTLSeconds: 10, Status: catalog.StatusPassing, Metadata: map[string]string{"a": "b"}}
	old := &Record{Instance: base}
	hb := base
	hb.LastHeartbeat = time.Now()
	if SetChanged(old, hb) {
		t.Fatal("heartbeat only: got changed, want unchanged")
	}
	for name, mut := range map[string]func(*catalog.Instance){
		"version":  func(i *catalog.Instance) { i.Version = "2" },
		"status":   func(i *catalog.Instance) { i.Status = catalog.StatusWarning },
		"ttl":      func(i *catalog.Instance) { i.TTLSeconds = 20 },
		"address":  func(i *catalog.Instance) { i.Addresses.HTTP = "127.0.0.1:1" },
		"metadata": func(i *catalog.Instance) { i.Metadata = map[string]string{"a": "c"} },
		"started":  func(i *catalog.Instance) { i.StartedAt = time.Now() },
	} {
		in := base
		mut(&in)
		if !SetChanged(old, in) {
			t.Errorf("%s: got unchanged, want changed", name)
		}
	}
	if !SetChanged(nil, base) || !SetChanged(&Record{Instance: base, Expired: true}, base) {
		t.Fatal("new or revived: got unchanged, want changed")
	}
}

func TestView(t *testing.T) {
	r := &Record{Instance: catalog.Instance{Status: catalog.StatusPassing, Metadata: map[string]string{"a": "b"}}, Expired: true}
	v := r.View()
	if v.Status != catalog.StatusCritical || !v.Expired {
		t.Fatalf("got %s %v, want critical true", v.Status, v.Expired)
	}
	v.Metadata["a"] = "x"
	if r.Instance.Metadata["a"] != "b" {
		t.Fatal("got the record's metadata changed through the view, want a copy")
	}
}

func TestHub(t *testing.T) {
	var h Hub
	ch := h.Changed()
	select {
	case <-ch:
		t.Fatal("got closed before Notify, want open")
	default:
	}
	h.Notify()
	<-ch
	if h.Changed() == ch {
		t.Fatal("got the closed channel again, want a new one")
	}
}
