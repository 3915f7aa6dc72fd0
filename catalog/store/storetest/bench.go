package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// BenchmarkHeartbeat measures heartbeats (PutInstance of a registered, unchanged
// instance) spread over n instances, from parallel goroutines as a catalog server would
// issue them (16 goroutines per CPU). s must be empty; the benchmark does not close it.
func BenchmarkHeartbeat(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	if _, err := s.PutComponent(ctx, Component("orders", "team-a")); err != nil {
		b.Fatal(err)
	}
	ins := make([]catalog.Instance, n)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := g; i < n; i += 32 {
				ins[i] = Instance("orders", fmt.Sprintf("i-%d", i))
				ins[i].TTLSeconds = catalog.MaxTTLSeconds
				if _, err := s.PutInstance(ctx, ins[i]); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // a server handles many heartbeats at once
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) % n
			if _, err := s.PutInstance(ctx, ins[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
