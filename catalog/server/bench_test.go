package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/bbolt"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// heartbeatEnv is a catalog over real HTTP on loopback with the bbolt store (fsync on
// every commit) and n registered instances of one component.
type heartbeatEnv struct {
	url    string
	client *http.Client
	bodies [][]byte
	// registered makes put a heartbeat (If-Match: *), as agents send once registered.
	registered bool
}

func newHeartbeatEnv(b *testing.B, n int) *heartbeatEnv {
	st, err := bbolt.Open(filepath.Join(b.TempDir(), "catalog.db"), bbolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ts := httptest.NewServer(server.New(st, server.Options{AdminToken: adminToken, Development: true}))
	b.Cleanup(ts.Close)
	if _, err := st.PutComponent(context.Background(), storetest.Component("orders", "team-a")); err != nil {
		b.Fatal(err)
	}
	e := &heartbeatEnv{url: ts.URL, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}, bodies: make([][]byte, n)}
	b.Cleanup(e.client.CloseIdleConnections)
	for i := range n {
		in := storetest.Instance("orders", fmt.Sprintf("i-%d", i))
		in.TTLSeconds = 30
		e.bodies[i], _ = json.Marshal(in)
	}
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				if err := e.put(i); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	e.registered = true
	return e
}

func (e *heartbeatEnv) put(i int) error {
	req, _ := http.NewRequestWithContext(context.Background(), "PUT", fmt.Sprintf("%s/api/v1/components/orders/instances/i-%d", e.url, i), bytes.NewReader(e.bodies[i]))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	if e.registered {
		req.Header.Set("If-Match", "*")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("got %d, want 200", resp.StatusCode)
	}
	return nil
}

// BenchmarkHeartbeatHTTP is the fleet's steady state: 10,000 registered instances with a
// 30 s TTL heartbeating every TTL/3, that is 1,000 heartbeats a second, issued at that
// pace (open loop) over real HTTP. It reports the p50 and p99 latency of a heartbeat and
// the heap in use after the run.
func BenchmarkHeartbeatHTTP(b *testing.B) {
	const n = 10000
	e := newHeartbeatEnv(b, n)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Millisecond) // 1,000 a second
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		wg.Go(func() {
			start := time.Now()
			if err := e.put(i % n); err != nil {
				b.Error(err)
				return
			}
			d := time.Since(start)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	reportPercentiles(b, lat)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB") // catalog and load clients together
}

// BenchmarkHeartbeatHTTPThroughput heartbeats as fast as 64 concurrent clients can
// (closed loop), to show the ceiling; its latencies are queueing, not service time.
func BenchmarkHeartbeatHTTPThroughput(b *testing.B) {
	const n = 1000
	e := newHeartbeatEnv(b, n)
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.put(int(next.Add(1)) % n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}

// BenchmarkWatchDeliveryHTTP measures how long after a registration a client blocked in
// a long poll (GET ...instances?index=) receives the new set, over real HTTP with the
// bbolt store, and reports p50 and p99.
func BenchmarkWatchDeliveryHTTP(b *testing.B) {
	st, err := bbolt.Open(filepath.Join(b.TempDir(), "catalog.db"), bbolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ts := httptest.NewServer(server.New(st, server.Options{AdminToken: adminToken, Development: true}))
	defer ts.Close()
	ctx := context.Background()
	if _, err := st.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		set, err := st.Instances(ctx, "orders")
		if err != nil {
			b.Fatal(err)
		}
		got := make(chan time.Time, 1)
		go func() {
			resp, err := http.Get(fmt.Sprintf("%s/api/v1/components/orders/instances?index=%d&wait=10s", ts.URL, set.Index))
			if err == nil {
				var s store.InstanceSet
				_ = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
			}
			got <- time.Now()
		}()
		time.Sleep(time.Millisecond) // let the poll reach the server
		in := storetest.Instance("orders", fmt.Sprintf("i-%d", i))
		in.TTLSeconds = catalog.MaxTTLSeconds
		if _, err := st.PutInstance(ctx, in); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		lat = append(lat, (<-got).Sub(committed))
	}
	reportPercentiles(b, lat)
}
