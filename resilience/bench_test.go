package resilience_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/paved-road/paved/resilience"
)

// The closed-path benchmarks: the bare call, raw gobreaker, the Breaker
// wrapper and the whole Policy, each serial and with b.RunParallel, in one
// run so the ratios in bench/resilience/README.md compare like with like.

//go:noinline
func benchCall(context.Context) (int, error) { return 1, nil }

func benchErr(ctx context.Context) error {
	_, err := benchCall(ctx)
	return err
}

func BenchmarkClosedPath(b *testing.B) {
	ctx := context.Background()
	raw := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "raw"})
	rawAny := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: "rawany"})
	brk, err := resilience.NewBreaker("brk", resilience.BreakerConfig{}, resilience.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	brkNoMetrics, _ := resilience.NewBreaker("brk", resilience.BreakerConfig{})
	pol, err := resilience.NewPolicy("pol", resilience.PolicyConfig{}, resilience.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	polNoTimeouts, _ := resilience.NewPolicy("pol", resilience.PolicyConfig{Timeout: -1, AttemptTimeout: -1}, resilience.WithRegisterer(prometheus.NewRegistry()))
	polFull, _ := resilience.NewPolicy("pol", resilience.PolicyConfig{
		Bulkhead:  resilience.BulkheadConfig{MaxConcurrent: 1 << 20},
		RateLimit: resilience.RateLimitConfig{Rate: 1e12, Burst: 1 << 30},
	}, resilience.WithRegisterer(prometheus.NewRegistry()))

	cases := []struct {
		name string
		call func() error
	}{
		{"bare", func() error { return benchErr(ctx) }},
		{"gobreaker", func() error {
			_, err := raw.Execute(func() (struct{}, error) { return struct{}{}, benchErr(ctx) })
			return err
		}},
		{"gobreaker-any", func() error {
			_, err := rawAny.Execute(func() (any, error) { return benchCall(ctx) })
			return err
		}},
		{"breaker", func() error { return brk.Do(ctx, benchErr) }},
		{"breaker-nometrics", func() error { return brkNoMetrics.Do(ctx, benchErr) }},
		{"policy-default", func() error { _, err := resilience.Do(ctx, pol, benchCall); return err }},
		{"policy-notimeouts", func() error { _, err := resilience.Do(ctx, polNoTimeouts, benchCall); return err }},
		{"policy-all", func() error { _, err := resilience.Do(ctx, polFull, benchCall); return err }},
	}
	for _, c := range cases {
		b.Run(c.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkOverhead measures the same closed paths in interleaved batches
// and reports, per variant, the fastest batch's ns per call. On a shared,
// noisy machine the minimum of interleaved batches estimates each path's
// cost better than separate runs, and the differences (wrapper − raw
// gobreaker) are what the targets are about. Run it with -benchtime 20x or
// more.
func BenchmarkOverhead(b *testing.B) {
	ctx := context.Background()
	raw := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "raw"})
	brk, _ := resilience.NewBreaker("brk", resilience.BreakerConfig{}, resilience.WithRegisterer(prometheus.NewRegistry()))
	pol, _ := resilience.NewPolicy("pol", resilience.PolicyConfig{}, resilience.WithRegisterer(prometheus.NewRegistry()))
	polAll, _ := resilience.NewPolicy("pol", resilience.PolicyConfig{
		Bulkhead:  resilience.BulkheadConfig{MaxConcurrent: 1 << 20},
		RateLimit: resilience.RateLimitConfig{Rate: 1e12, Burst: 1 << 30},
	}, resilience.WithRegisterer(prometheus.NewRegistry()))
	variants := []struct {
		unit string
		call func() error
	}{
		{"ns-bare", func() error { return benchErr(ctx) }},
		{"ns-gobreaker", func() error {
			_, err := raw.Execute(func() (struct{}, error) { return struct{}{}, benchErr(ctx) })
			return err
		}},
		{"ns-breaker", func() error { return brk.Do(ctx, benchErr) }},
		{"ns-policy", func() error { _, err := resilience.Do(ctx, pol, benchCall); return err }},
		{"ns-policy-all", func() error { _, err := resilience.Do(ctx, polAll, benchCall); return err }},
	}
	const batch = 2000
	best := make([]float64, len(variants))
	for i := range best {
		best[i] = 1e18
	}
	for b.Loop() {
		for i, v := range variants {
			start := time.Now()
			for range batch {
				if err := v.call(); err != nil {
					b.Fatal(err)
				}
			}
			if ns := float64(time.Since(start).Nanoseconds()) / batch; ns < best[i] {
				best[i] = ns
			}
		}
	}
	for i, v := range variants {
		b.ReportMetric(best[i], v.unit)
	}
	b.ReportMetric(best[2]-best[1], "ns-breaker-over-gobreaker")
}
