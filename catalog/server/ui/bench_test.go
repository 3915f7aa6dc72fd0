package ui_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

// benchFleet is a UI over n components in 5 tiers of dependencies, each with 3 instances
// and scorecards.
func benchFleet(b *testing.B, n int) *ui.Handler {
	b.Helper()
	st := memory.New(memory.Options{})
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprintf("svc-%04d", i) }
	for i := range n {
		var deps []string
		if i >= n/5 {
			deps = []string{name(i % (n / 5)), name((i * 7) % (n / 5))}
			if deps[0] == deps[1] {
				deps = deps[:1]
			}
		}
		if _, err := st.PutComponent(ctx, catalog.Component{Name: name(i), Owner: "team", Type: "service", Tier: 1 + i%4,
			Lifecycle: catalog.LifecycleProduction, DependsOn: deps}); err != nil {
			b.Fatal(err)
		}
		for j := range 3 {
			id := fmt.Sprintf("i%d", j)
			if _, err := st.PutInstance(ctx, catalog.Instance{ID: id, Component: name(i), Version: "v1",
				Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080"}, StartedAt: time.Now(), TTLSeconds: 3600, Status: catalog.StatusPassing}); err != nil {
				b.Fatal(err)
			}
			if err := st.PutScorecard(ctx, catalog.Scorecard{Component: name(i), Instance: id, RuleSetVersion: "1", Score: 80 + j}); err != nil {
				b.Fatal(err)
			}
		}
	}
	h, err := ui.New(st, ui.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// Targets (docs/catalog-ui.md): with 1,000 components, the table renders in under 50 ms
// and the fleet graph in under 100 ms.
func BenchmarkUI(b *testing.B) {
	for _, n := range []int{100, 1000} {
		h := benchFleet(b, n)
		for _, path := range []string{"/", "/components/svc-0001", "/graph.svg", "/components/svc-0001/graph.svg"} {
			b.Run(fmt.Sprintf("n=%d%s", n, path), func(b *testing.B) {
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
					if rec.Code != 200 {
						b.Fatalf("got status %d, want 200", rec.Code)
					}
				}
			})
		}
	}
}
