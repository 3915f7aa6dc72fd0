package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// historyCases are the conformance cases of UpdateHistory and Histories.
func historyCases() []testCase {
	return []testCase{
		{"HistoryUpdateAndList", testHistoryUpdate},
		{"HistoryOutlivesInstancesGoesWithComponent", testHistoryLifetime},
		{"HistoryConcurrentUpdatesAllApply", testHistoryConcurrent},
	}
}

func names(hs []catalog.History) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Component + "/" + h.Environment
	}
	return out
}

func addDeployment(version string) func(h *catalog.History) (bool, error) {
	return func(h *catalog.History) (bool, error) {
		h.Observed++
		h.Deployments = append(h.Deployments, catalog.Deployment{ID: "o-1", Component: h.Component, Environment: h.Environment,
			Source: catalog.SourceObserved, Version: version, State: catalog.DeploymentInProgress,
			StartedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)})
		return true, nil
	}
}

func testHistoryUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.UpdateHistory(ctx, "orders", "production", addDeployment("1.0.0"))
	mustNotFound(t, err)
	_, err = s.Histories(ctx, "orders")
	mustNotFound(t, err)
	setup(t, s, "orders", "a", "a-b")
	var ve *catalog.ValidationError
	if _, err := s.UpdateHistory(ctx, "orders", "Prod/EU", addDeployment("1.0.0")); !errors.As(err, &ve) || ve.Errors[0].Field != "environment" {
		t.Fatalf("environment Prod/EU: got %v, want a validation error naming environment", err)
	}
	// fn says not to write: nothing is stored; fn fails: its error, nothing stored.
	h := must(s.UpdateHistory(ctx, "orders", "production", func(h *catalog.History) (bool, error) {
		h.Observed = 7
		return false, nil
	}))(t)
	if h.Component != "orders" || h.Environment != "production" || h.Observed != 7 {
		t.Fatalf("got %+v, want orders/production as fn left it", h)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateHistory(ctx, "orders", "production", func(h *catalog.History) (bool, error) {
		h.Observed = 9
		return true, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want fn's error", err)
	}
	if _, err := s.UpdateHistory(ctx, "orders", "production", func(h *catalog.History) (bool, error) {
		h.Environment = "staging"
		return true, nil
	}); !errors.As(err, &ve) {
		t.Fatalf("renaming: got %v, want a validation error", err)
	}
	if got := must(s.Histories(ctx, ""))(t); len(got) != 0 {
		t.Fatalf("after updates that wrote nothing: got %v, want none", names(got))
	}
	must(s.UpdateHistory(ctx, "orders", "staging", addDeployment("1.0.0")))(t)
	must(s.UpdateHistory(ctx, "orders", "production", addDeployment("1.0.0")))(t)
	h = must(s.UpdateHistory(ctx, "orders", "production", addDeployment("1.1.0")))(t)
	if h.Observed != 2 || len(h.Deployments) != 2 || h.Deployments[1].Version != "1.1.0" {
		t.Fatalf("got %+v, want two deployments, the second of 1.1.0", h)
	}
	must(s.UpdateHistory(ctx, "a-b", "production", addDeployment("1")))(t)
	must(s.UpdateHistory(ctx, "a", "production", addDeployment("1")))(t)
	if got, want := names(must(s.Histories(ctx, ""))(t)), []string{"a/production", "a-b/production", "orders/production", "orders/staging"}; !slices.Equal(got, want) {
		t.Fatalf("all: got %v, want %v", got, want)
	}
	got := must(s.Histories(ctx, "orders"))(t)
	if n := names(got); !slices.Equal(n, []string{"orders/production", "orders/staging"}) {
		t.Fatalf("orders: got %v, want production and staging", n)
	}
	d := got[0].Deployments[1]
	if d.Version != "1.1.0" || d.State != catalog.DeploymentInProgress || !d.StartedAt.Equal(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Fatalf("got %+v, want the deployment as written", d)
	}
	if got := must(s.Histories(ctx, "a"))(t); !slices.Equal(names(got), []string{"a/production"}) {
		t.Fatalf("a: got %v, want a/production alone", names(got))
	}
}

func testHistoryLifetime(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i1")))(t)
	must(s.UpdateHistory(ctx, "orders", "production", addDeployment("1.0.0")))(t)
	if err := s.DeleteInstance(ctx, "orders", "i1"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got := must(s.Histories(ctx, "orders"))(t); len(got) != 1 || len(got[0].Deployments) != 1 {
		t.Fatalf("after the last instance went: got %v, want the history kept", names(got))
	}
	if err := s.DeleteComponent(ctx, "orders"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	setup(t, s, "orders")
	if got := must(s.Histories(ctx, ""))(t); len(got) != 0 {
		t.Fatalf("after the component was deleted and made again: got %v, want no history", names(got))
	}
}

func testHistoryConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	const writers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateHistory(ctx, "orders", "production", func(h *catalog.History) (bool, error) {
					h.Observed++
					return true, nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	}
	if got := must(s.Histories(ctx, "orders"))(t); len(got) != 1 || got[0].Observed != writers*each {
		t.Fatalf("got %+v, want one history counting %d updates", got, writers*each)
	}
}
