package integration_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/bbolt"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
)

// switchable is a RoundTripper that serves each request with the real catalog handler
// in process (no sockets, so a testing/synctest bubble can advance its fake clock), or
// fails it as a refused connection while the catalog is down. It records when each
// instance's calls were attempted while down, and counts the registrations (a PUT of an
// instance without If-Match) while up. It is safe for concurrent use.
type switchable struct {
	mu            sync.Mutex
	h             http.Handler
	down          bool
	attempts      map[string][]time.Time // by request path, while down
	registrations int                    // while up, since the last setDown
}

func (s *switchable) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.attempts = map[string][]time.Time{}
	s.registrations = 0
}

func (s *switchable) setHandler(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *switchable) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	down, h := s.down, s.h
	if down {
		s.attempts[req.URL.Path] = append(s.attempts[req.URL.Path], time.Now())
	} else if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/instances/") && req.Header.Get("If-Match") == "" {
		s.registrations++
	}
	s.mu.Unlock()
	if req.Body != nil {
		defer req.Body.Close()
	}
	if down {
		return nil, errors.New("dial tcp 127.0.0.1:8500: connect: connection refused")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// catalogAPI is the real catalog API over st, team-a holding teamToken.
func catalogAPI(t *testing.T, st store.Store) http.Handler {
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + teamToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return server.New(st, server.Options{Tokens: tokens, Development: true})
}

// outageFleet runs n agents with a 9 s TTL against the real catalog API over a memory
// store, through a switchable transport, in the calling synctest bubble. It returns the
// transport, the store and a stop function.
func outageFleet(t *testing.T, n int) (*switchable, *memory.Store, func()) {
	st := memory.New(memory.Options{})
	sw, c, stop := fleet(t, n, st)
	return sw, st, func() {
		stop()
		_ = c.Close()
		_ = st.Close()
	}
}

// fleet runs n agents with a 9 s TTL against the real catalog API over st through a
// switchable transport. It returns the transport, the agents' client and a function
// that stops the agents.
func fleet(t *testing.T, n int, st store.Store) (*switchable, *client.Client, func()) {
	sw := &switchable{h: catalogAPI(t, st)}
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
	return sw, c, func() {
		cancel()
		wg.Wait()
	}
}

// passing counts the instances of orders the catalog lists passing.
func passing(t *testing.T, st store.Store) int {
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
func untilAllPassing(t *testing.T, st store.Store, n int, limit time.Duration) time.Duration {
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

// TestCatalogRestartedOnItsBboltFile is issue #15's restart end to end: TTL 9 s, five
// live agents and one instance whose process was SIGKILLed, the catalog down for 27 s
// and restarted on the same bbolt file. The dead instance is never listed passing and
// goes one TTL after the restart; the live ones are never missing from the list, are
// passing again within a heartbeat interval, and never have to register again.
func TestCatalogRestartedOnItsBboltFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		path := filepath.Join(t.TempDir(), "catalog.db")
		st, err := bbolt.Open(path, bbolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sw, c, stop := fleet(t, n, st)
		defer func() { stop(); _ = c.Close(); _ = st.Close() }()
		untilAllPassing(t, st, n, 10*time.Second)
		time.Sleep(time.Minute)
		// One more instance, whose process is SIGKILLed with the catalog: its last
		// heartbeat is just before the outage.
		killed := discoverytest.NewInstance("orders", "orders-killed", 21000)
		killed.TTL = 9 * time.Second
		if err := c.Registrar(component("orders"), nil).Register(t.Context(), killed); err != nil {
			t.Fatal(err)
		}
		if got := passing(t, st); got != n+1 {
			t.Fatalf("before the outage: got %d passing, want %d", got, n+1)
		}

		sw.setDown(true) // the catalog dies
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(27 * time.Second)
		if st, err = bbolt.Open(path, bbolt.Options{}); err != nil {
			t.Fatal(err)
		}
		sw.setHandler(catalogAPI(t, st))
		sw.setDown(false)
		restarted := time.Now()

		var allPassing, deadGone time.Duration
		for time.Since(restarted) < 12*time.Second {
			set, err := st.Instances(t.Context(), "orders")
			if err != nil {
				t.Fatal(err)
			}
			at := time.Since(restarted)
			live, livePassing := 0, 0
			for _, in := range set.Instances {
				switch {
				case in.ID == "orders-killed":
					if in.Status == catalog.StatusPassing {
						t.Fatalf("%v after the restart: got the killed instance listed passing, want critical", at)
					}
				default:
					live++
					if in.Status == catalog.StatusPassing {
						livePassing++
					}
				}
			}
			if live != n {
				t.Fatalf("%v after the restart: got %d live instances listed, want all %d", at, live, n)
			}
			if livePassing == n && allPassing == 0 {
				allPassing = at
			}
			if len(set.Instances) == n && deadGone == 0 {
				deadGone = at
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		t.Logf("after the restart: all live passing at %v, the killed one gone at %v", allPassing, deadGone)
		if allPassing == 0 || allPassing > 3*time.Second+100*time.Millisecond {
			t.Errorf("got all live instances passing at %v after the restart, want within the 3 s heartbeat interval", allPassing)
		}
		if deadGone < 9*time.Second || deadGone > 10*time.Second+100*time.Millisecond {
			t.Errorf("got the killed instance removed at %v after the restart, want one TTL (9 s) after it, at the next sweep", deadGone)
		}
		sw.mu.Lock()
		regs := sw.registrations
		sw.mu.Unlock()
		if regs != 0 {
			t.Errorf("got %d registrations after the restart, want none (every live instance's heartbeat finds it)", regs)
		}
	})
}
