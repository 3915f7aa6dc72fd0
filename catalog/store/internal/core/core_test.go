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
		e, rm := Due(r, t0.Add(tt.at), tt.grace)
		if e != tt.expire || rm != tt.remove {
			t.Errorf("at %v expired %v grace %v: got %v %v, want %v %v", tt.at, tt.expired, tt.grace, e, rm, tt.expire, tt.remove)
		}
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
