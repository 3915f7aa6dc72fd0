package httptransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paved-road/paved/discovery"
)

// ErrNoInstance reports that a client found no ready instance of its dependency to send
// a request to. The error returned wraps it and names the dependency (and the
// registry's last error, when there is one).
var ErrNoInstance = errors.New("httptransport: no ready instance")

// Balance chooses how a [Client] spreads requests over the instances of its dependency.
type Balance int

const (
	// RoundRobin sends each request to the next instance in turn. The default.
	RoundRobin Balance = iota
	// PowerOfTwo picks two instances at random and sends the request to the one with
	// fewer requests in flight, which steers traffic away from slow instances.
	PowerOfTwo
)

// String returns "round_robin" or "power_of_two".
func (b Balance) String() string {
	switch b {
	case RoundRobin:
		return "round_robin"
	case PowerOfTwo:
		return "power_of_two"
	}
	return fmt.Sprintf("Balance(%d)", int(b))
}

// DefaultEjection is how long an instance that failed at the transport level (refused
// connection, reset, EOF) is passed over, unless every instance is.
const DefaultEjection = 5 * time.Second

// backend is one instance address with its load and health as the client sees them.
type backend struct {
	addr     string
	inflight atomic.Int64
	// downUntil is the unix-nanosecond time until which the backend is ejected.
	downUntil atomic.Int64
}

// backendSet is an immutable snapshot of the instances and the registry's error.
type backendSet struct {
	backends []*backend
	err      error
}

// balancer is the innermost RoundTripper of a discovering client: it sends requests
// addressed to the dependency's name to one of its instances.
type balancer struct {
	name    string
	mode    Balance
	eject   time.Duration // <= 0: no ejection
	now     func() time.Time
	next    http.RoundTripper
	set     atomic.Pointer[backendSet]
	rr      atomic.Uint64
	cancel  func()
	done    chan struct{}
	closeMu sync.Once
}

// newBalancer subscribes to in and keeps the backend set current until close.
func newBalancer(name string, in discovery.Instancer, mode Balance, eject time.Duration, next http.RoundTripper) *balancer {
	b := &balancer{name: name, mode: mode, eject: eject, now: time.Now, next: next, done: make(chan struct{})}
	b.set.Store(&backendSet{})
	events, cancel := in.Subscribe()
	b.cancel = cancel
	// The first event is already buffered: take it now, so the client has its
	// instances before the first request.
	if ev, ok := <-events; ok {
		b.update(ev)
	}
	go func() {
		defer close(b.done)
		for ev := range events {
			b.update(ev)
		}
	}()
	return b
}

// update replaces the backend set, keeping the load and ejection state of addresses
// that stay.
func (b *balancer) update(ev discovery.Event) {
	old := b.set.Load()
	byAddr := make(map[string]*backend, len(old.backends))
	for _, be := range old.backends {
		byAddr[be.addr] = be
	}
	next := &backendSet{err: ev.Err}
	seen := make(map[string]bool, len(ev.Instances))
	for _, in := range ev.Instances {
		a := in.Addresses.HTTP
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		be := byAddr[a]
		if be == nil {
			be = &backend{addr: a}
		}
		next.backends = append(next.backends, be)
	}
	b.set.Store(next)
}

func (b *balancer) close() {
	b.closeMu.Do(func() {
		b.cancel()
		<-b.done
	})
}

// pick chooses a backend, passing over ejected ones unless all are.
func (b *balancer) pick() (*backend, error) {
	set := b.set.Load()
	n := len(set.backends)
	if n == 0 {
		if set.err != nil {
			return nil, fmt.Errorf("%w of %q: registry error: %w", ErrNoInstance, b.name, set.err)
		}
		return nil, fmt.Errorf("%w of %q", ErrNoInstance, b.name)
	}
	if n == 1 {
		return set.backends[0], nil
	}
	now := b.now().UnixNano()
	up := func(be *backend) bool { return be.downUntil.Load() <= now }
	switch b.mode {
	case PowerOfTwo:
		// Draw two distinct backends, preferring live ones: a few draws find a live
		// pair when there is one; with all ejected, any pair will do.
		var x, y *backend
		for range 4 {
			i := rand.IntN(n)
			j := rand.IntN(n - 1)
			if j >= i {
				j++
			}
			x, y = set.backends[i], set.backends[j]
			if up(x) || up(y) {
				break
			}
		}
		switch {
		case !up(x) && up(y):
			return y, nil
		case up(x) && !up(y):
			return x, nil
		case y.inflight.Load() < x.inflight.Load():
			return y, nil
		}
		return x, nil
	default:
		start := b.rr.Add(1) - 1
		for k := range uint64(n) {
			be := set.backends[(start+k)%uint64(n)]
			if up(be) {
				if k > 0 {
					// Keep the turn moving past the ejected ones.
					b.rr.Add(k)
				}
				return be, nil
			}
		}
		return set.backends[start%uint64(n)], nil
	}
}

// RoundTrip sends r to an instance when it is addressed to the dependency's name, and
// unchanged otherwise.
func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != b.name {
		return b.next.RoundTrip(r)
	}
	be, err := b.pick()
	if err != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, err
	}
	r2 := r.WithContext(r.Context())
	u := *r.URL
	u.Host = be.addr
	r2.URL = &u
	if r.Host == "" || r.Host == b.name {
		r2.Host = be.addr
	}
	be.inflight.Add(1)
	resp, err := b.next.RoundTrip(r2)
	if err != nil {
		be.inflight.Add(-1)
		if b.eject > 0 && r.Context().Err() == nil && !errors.Is(err, context.Canceled) {
			be.downUntil.Store(b.now().Add(b.eject).UnixNano())
		}
		return nil, err
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		be.inflight.Add(-1)
		return resp, nil
	}
	resp.Body = &inflightBody{ReadCloser: resp.Body, be: be}
	return resp, nil
}

// inflightBody counts its request as in flight until the body is closed.
type inflightBody struct {
	io.ReadCloser
	be   *backend
	once sync.Once
}

func (b *inflightBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.be.inflight.Add(-1) })
	return err
}
