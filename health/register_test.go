package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/health"
)

func ok(context.Context) error { return nil }

func TestRegisterRefusesBadChecks(t *testing.T) {
	tests := []struct {
		name    string
		opts    health.Options
		check   health.Check
		wantErr error
		wantMsg string // a fragment naming the field and what is valid
	}{
		{"empty name", health.Options{}, health.Check{Check: ok}, health.ErrInvalidCheck, "Name must be 1-63 characters"},
		{"slash in name", health.Options{}, health.Check{Name: "a/b", Check: ok}, health.ErrInvalidCheck, `"a/b": Name must be`},
		{"space in name", health.Options{}, health.Check{Name: "a b", Check: ok}, health.ErrInvalidCheck, "Name must be"},
		{"leading dash", health.Options{}, health.Check{Name: "-db", Check: ok}, health.ErrInvalidCheck, "Name must be"},
		{"too long", health.Options{}, health.Check{Name: strings.Repeat("a", 64), Check: ok}, health.ErrInvalidCheck, "1-63"},
		{"reserved gate", health.Options{}, health.Check{Name: "shutdown", Check: ok}, health.ErrInvalidCheck, "reserved"},
		{"reserved set", health.Options{}, health.Check{Name: "readiness", Check: ok}, health.ErrInvalidCheck, "reserved"},
		{"nil func", health.Options{}, health.Check{Name: "db"}, health.ErrInvalidCheck, "Check func is nil"},
		{"unknown kind", health.Options{}, health.Check{Name: "db", Check: ok, Kinds: 1 << 5}, health.ErrInvalidCheck, "want Liveness, Readiness and/or Startup"},
		{"negative timeout", health.Options{}, health.Check{Name: "db", Check: ok, Timeout: -time.Second}, health.ErrInvalidCheck, "Timeout -1s is negative"},
		{"negative period", health.Options{}, health.Check{Name: "db", Check: ok, Period: -1}, health.ErrInvalidCheck, "Period"},
		{"negative ttl", health.Options{}, health.Check{Name: "db", Check: ok, CacheTTL: -1}, health.ErrInvalidCheck, "CacheTTL"},
		{"duplicate", health.Options{}, health.Check{Name: "existing", Check: ok}, health.ErrDuplicate, `"existing" is already registered`},
		{"liveness dependency", health.Options{}, health.Check{Name: "pg", Kinds: health.Liveness | health.Readiness, Dependency: "postgres", Check: ok}, health.ErrLivenessDependency, "AllowLivenessDependencies"},
		{"liveness dependency allowed", health.Options{AllowLivenessDependencies: true}, health.Check{Name: "pg", Kinds: health.Liveness, Dependency: "postgres", Check: ok}, nil, ""},
		{"readiness dependency", health.Options{}, health.Check{Name: "pg", Dependency: "postgres", Check: ok}, nil, ""},
		{"dotted name", health.Options{}, health.Check{Name: "orders.v1_db-main", Check: ok}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := health.New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer reg.Close()
			if err := reg.Register(health.Check{Name: "existing", Check: ok}); err != nil {
				t.Fatal(err)
			}
			err = reg.Register(tt.check)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got %q, want it to contain %q", err, tt.wantMsg)
			}
			wantN := 2
			if err != nil {
				wantN = 1 // refused: registry unchanged
			}
			if got := len(reg.Checks()); got != wantN {
				t.Errorf("got %d checks, want %d", got, wantN)
			}
		})
	}
}

func TestChecksListing(t *testing.T) {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	must(t, reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok}))
	must(t, reg.Register(health.Check{Name: "db", Dependency: "postgres", Check: ok, Timeout: 300 * time.Millisecond}))
	must(t, reg.Register(health.Check{Name: "cache", Kinds: health.Readiness | health.Startup, NonCritical: true, Period: time.Minute, Check: ok}))
	got := reg.Checks()
	want := []health.CheckInfo{
		{Name: "loop", Kinds: health.Liveness, Critical: true, Timeout: health.DefaultTimeout, CacheTTL: health.DefaultCacheTTL},
		{Name: "db", Kinds: health.Readiness, Dependency: "postgres", Critical: true, Timeout: 300 * time.Millisecond, CacheTTL: health.DefaultCacheTTL},
		{Name: "cache", Kinds: health.Readiness | health.Startup, Critical: false, Timeout: health.DefaultTimeout, Period: time.Minute, CacheTTL: health.DefaultCacheTTL},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d checks, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("check %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// The compliance questions.
	liveDeps := false
	hasReadiness := false
	for _, c := range got {
		liveDeps = liveDeps || (c.Kinds.Has(health.Liveness) && c.Dependency != "")
		hasReadiness = hasReadiness || c.Kinds.Has(health.Readiness)
	}
	if liveDeps || !hasReadiness {
		t.Errorf("got liveDeps=%v hasReadiness=%v, want false true", liveDeps, hasReadiness)
	}
	if got, want := (health.Readiness | health.Startup).String(), "readiness|startup"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
