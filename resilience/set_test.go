package resilience_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/resilience"
)

func TestSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s resilience.Set // the zero value is ready
		inv, err := s.NewPolicy("inventory", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{ConsecutiveFailures: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.NewPolicy("payments", resilience.PolicyConfig{Timeout: -1, AttemptTimeout: -1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.NewPolicy("inventory", resilience.PolicyConfig{}); err == nil || !strings.Contains(err.Error(), `"inventory" already`) {
			t.Fatalf("duplicate got %v, want an error naming it", err)
		}
		if err := s.Add(nil); err == nil {
			t.Fatal("Add(nil) got nil, want an error")
		}
		if err := s.Check(t.Context()); err != nil {
			t.Fatalf("Check got %v, want nil with all breakers closed", err)
		}
		_, _ = resilience.Do(t.Context(), inv, func(context.Context) (int, error) { return 0, errors.New("down") })
		err = s.Check(t.Context())
		if err == nil || !strings.Contains(err.Error(), "inventory is open") {
			t.Fatalf("Check got %v, want inventory open", err)
		}
		st := s.Status()
		if len(st) != 2 || st[0].Name != "inventory" || st[0].State != "open" || !st[0].Breaker ||
			st[1].Name != "payments" || st[1].Timeout != 0 || st[0].Timeout != 10*time.Second {
			t.Fatalf("Status got %+v", st)
		}
		want := []string{"orders: no policy", "payments: no timeout"}
		if got := s.Missing("inventory", "payments", "orders"); !slices.Equal(got, want) {
			t.Fatalf("Missing got %v, want %v", got, want)
		}
		if s.Get("inventory") != inv || s.Get("nope") != nil {
			t.Fatal("Get returned the wrong policy")
		}
	})
}
