package httptransport

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
)

type failTransport struct{ err error }

func (f failTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// An instance that fails at the transport level is passed over for the ejection time,
// by an injected clock, then tried again; with every instance ejected, calls still go out.
func TestBalancerEjection(t *testing.T) {
	for _, mode := range []Balance{RoundRobin, PowerOfTwo} {
		t.Run(mode.String(), func(t *testing.T) {
			in := static.NewInstancer([]discovery.Instance{
				{ID: "a", Service: "inventory", Version: "1", Addresses: discovery.Addresses{HTTP: "127.0.0.1:1"}, Status: discovery.StatusPassing},
				{ID: "b", Service: "inventory", Version: "1", Addresses: discovery.Addresses{HTTP: "127.0.0.1:2"}, Status: discovery.StatusPassing},
			})
			defer in.Stop()
			now := time.Unix(1000, 0)
			b := newBalancer("inventory", in, mode, 5*time.Second, failTransport{errors.New("connection refused")})
			defer b.close()
			b.now = func() time.Time { return now }

			req, _ := http.NewRequest("GET", "http://inventory/", nil)
			for {
				if _, err := b.RoundTrip(req); err == nil {
					t.Fatal("got nil error, want the transport's")
				}
				be, _ := b.pick()
				if be.downUntil.Load() != 0 {
					continue // the failed one was picked again only if all are down
				}
				break
			}
			// Exactly one is ejected now; every pick avoids it.
			var down *backend
			for _, be := range b.set.Load().backends {
				if be.downUntil.Load() != 0 {
					down = be
				}
			}
			if down == nil {
				t.Fatal("got no ejected instance, want one")
			}
			for range 50 {
				if be, _ := b.pick(); be == down {
					t.Fatalf("picked ejected %s, want the other", be.addr)
				}
			}
			now = now.Add(5*time.Second + time.Nanosecond)
			seen := false
			for range 200 {
				if be, _ := b.pick(); be == down {
					seen = true
				}
			}
			if !seen {
				t.Errorf("after the ejection time: %s never picked, want it back", down.addr)
			}
			// Both down: picks still return an instance rather than fail.
			for _, be := range b.set.Load().backends {
				be.downUntil.Store(now.Add(time.Minute).UnixNano())
			}
			if be, err := b.pick(); be == nil || err != nil {
				t.Errorf("all ejected: got %v %v, want an instance", be, err)
			}
		})
	}
}
