package integration_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
)

// switchable is a RoundTripper that serves each request with the real catalog handler
// in process (no sockets, so a testing/synctest bubble can advance its fake clock), or
// fails it as a refused connection while the catalog is down. It records when each
// instance's calls were attempted. It is safe for concurrent use.
type switchable struct {
	h http.Handler

	mu       sync.Mutex
	down     bool
	attempts map[string][]time.Time // by request path, while down
}

func (s *switchable) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.attempts = map[string][]time.Time{}
}

func (s *switchable) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	down := s.down
	if down {
		s.attempts[req.URL.Path] = append(s.attempts[req.URL.Path], time.Now())
	}
	s.mu.Unlock()
	if req.Body != nil {
		defer req.Body.Close()
	}
	if down {
		return nil, errors.New("dial tcp 127.0.0.1:8500: connect: connection refused")
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// outageFleet runs n agents with a 9 s TTL against the real catalog API over a memory
// store, through a switchable transport, in the calling synctest bubble. It returns the
// transport, the store and a stop function.
func outageFleet(t *testing.T, n int) (*switchable, *memory.Store, func()) {
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + teamToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	sw := &switchable{h: server.New(st, server.Options{Tokens: tokens})}
	sw.setDown(false)
	c, err := client.New("http://catalog.test", client.WithToken(teamToken), client.WithHTTPClient(&http.Client{Transport: sw}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range n {
		a, err := discovery.NewAgent(c.Registrar(component("orders"), nil),
			discoverytest.NewInstance("orders", fmt.Sprintf("orders-%d", i), 20000+3*i), discovery.WithTTL(9*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = a.Run(ctx) })
	}
	return sw, st, func() {
		cancel()
		wg.Wait()
		_ = c.Close()
		_ = st.Close()
	}
}

// passing counts the instances of orders the catalog lists passing.
func passing(t *testing.T, st *memory.Store) int {
	set, err := st.Instances(t.Context(), "orders")
	if err != nil {
		return 0
	}
	n := 0
	for _, in := range set.Instances {
		if in.Status == catalog.StatusPassing {
			n++
		}
	}
	return n
}

// untilAllPassing advances the bubble's clock in 100 ms steps until the catalog lists
// all n passing, and returns how long that took; it fails past limit.
func untilAllPassing(t *testing.T, st *memory.Store, n int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for passing(t, st) != n {
		if d := time.Since(start); d > limit {
			t.Fatalf("after %v: got %d of %d instances passing, want all within %v", d, passing(t, st), n, limit)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
	}
	return time.Since(start)
}

// TestCatalogUnreachableForThreeTTLs (issue #15, F3): the catalog is unreachable for
// 3 x TTL, long enough to expire and remove every instance, then back: in each of 10
// trials every instance is registered again within 10 s.
func TestCatalogUnreachableForThreeTTLs(t *testing.T) {
	const n, ttl = 20, 9 * time.Second
	var worst time.Duration
	for trial := range 10 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sw, st, stop := outageFleet(t, n)
				defer stop()
				untilAllPassing(t, st, n, 10*time.Second)
				time.Sleep(time.Minute)
				sw.setDown(true)
				time.Sleep(3 * ttl)
				synctest.Wait()
				if got := passing(t, st); got != 0 {
					t.Fatalf("after 3 TTLs unreachable: got %d passing, want 0 (expired)", got)
				}
				sw.setDown(false)
				d := untilAllPassing(t, st, n, 10*time.Second)
				worst = max(worst, d)
			})
		})
	}
	t.Logf("%d instances back within %v of the catalog, in the worst of 10 trials", n, worst)
}

// TestCatalogUnreachableForTenMinutes (issue #15, F3): ten minutes (fake time) of an
// unreachable catalog never make an agent give up: each keeps trying at least once a
// heartbeat interval (its backoff is bounded), and all are back within 10 s after.
func TestCatalogUnreachableForTenMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		sw, st, stop := outageFleet(t, n)
		defer stop()
		untilAllPassing(t, st, n, 10*time.Second)
		sw.setDown(true)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		sw.mu.Lock()
		for i := range n {
			path := fmt.Sprintf("/api/v1/components/orders/instances/orders-%d", i)
			at := sw.attempts[path]
			if len(at) == 0 {
				t.Fatalf("%s: got no attempt in 10 minutes, want the agent to keep trying", path)
			}
			gap := 10*time.Minute - at[len(at)-1].Sub(at[0]) // before the first, after the last
			for j := 1; j < len(at); j++ {
				gap = max(gap, at[j].Sub(at[j-1]))
			}
			if gap > 3*time.Second+time.Millisecond {
				t.Errorf("%s: got a gap of %v between attempts, want at most the 3 s heartbeat interval", path, gap)
			}
		}
		sw.mu.Unlock()
		sw.setDown(false)
		d := untilAllPassing(t, st, n, 10*time.Second)
		t.Logf("%d instances back %v after a 10-minute outage", n, d)
	})
}
