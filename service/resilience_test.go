package service_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/resilience"
)

// TestBreakersVisibleToService: a policy built through the service shows in /info, an
// open breaker makes /readyz warn without failing, and the compliance facts know the
// dependency has a breaker and a timeout.
func TestBreakersVisibleToService(t *testing.T) {
	s := newTestService(t, nil)
	p, err := s.Policy("inventory", resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{ConsecutiveFailures: 2},
		Retry:   resilience.RetryConfig{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	defer func() { cancel(); <-done; http.DefaultClient.CloseIdleConnections() }()

	admin := "http://" + s.AdminAddr().String()
	if _, body := get(t, admin+"/info"); !strings.Contains(body, `"name": "inventory"`) || !strings.Contains(body, `"state": "closed"`) {
		t.Errorf("/info lacks the closed breaker:\n%s", body)
	}
	for range 3 {
		_, _ = resilience.Do(ctx, p, func(context.Context) (int, error) { return 0, errors.New("inventory down") })
	}
	if st := p.Breaker().State(); st != resilience.StateOpen {
		t.Fatalf("breaker state: got %v, want open", st)
	}
	if _, body := get(t, admin+"/info"); !strings.Contains(body, `"state": "open"`) {
		t.Errorf("/info does not show the open breaker:\n%s", body)
	}
	code, body := get(t, admin+"/readyz?verbose")
	if code != 200 || !strings.Contains(body, "breakers") || !strings.Contains(strings.ToLower(body), "warn") {
		t.Errorf("/readyz?verbose with an open breaker: got %d, want 200 with a breakers warning:\n%s", code, body)
	}

	rep := compliance.Evaluate(s.Facts(), compliance.DefaultRuleSet())
	for _, id := range []string{"dependency-breaker", "dependency-timeout"} {
		if r, _ := rep.Result(id); r.Status != compliance.StatusPass {
			t.Errorf("%s: got %s (%s), want pass", id, r.Status, r.Message)
		}
	}
	if r, _ := rep.Result("dependency-declared"); r.Status != compliance.StatusFail {
		t.Errorf("dependency-declared: got %s, want fail: inventory is called but not in Info.DependsOn", r.Status)
	}
}
