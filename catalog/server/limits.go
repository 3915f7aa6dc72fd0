package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Limits are a Server's per-client limits (Options.Limits). The zero value limits
// nothing; DefaultLimits returns the catalog program's defaults.
//
// A client is the address the connection comes from: an IPv4 address, or the /64 an
// IPv6 address belongs to (one host may hold a whole /64). Behind a proxy every client
// has the proxy's address: raise the limits there, or let the proxy limit.
//
// Heartbeats of registered instances are exempt from both request rates as long as each
// instance heartbeats at most at its expected rate, one every TTL/3 with a burst of 3
// (for the first heartbeat after registration, which comes at a random part of the
// interval, and for readiness changes, which heartbeat at once): they are never the
// requests a rate limit refuses. See docs/catalog.md, "Limits".
type Limits struct {
	// MaxConnsPerClient caps the connections one client may hold open at once on a
	// listener wrapped by [Server.LimitListener]. A connection over the cap is never
	// read: it is held for HoldOverCap, then closed. Zero means no cap.
	MaxConnsPerClient int
	// HoldOverCap is how long a connection over MaxConnsPerClient is held open, unread
	// and without a goroutine, before it is closed (each for a time within 25 % of it,
	// so that connections accepted together do not come back together). While it is
	// held its client waits instead of reconnecting, so that the catalog, not the
	// client's backoff, sets how often a client over its cap comes back: each
	// reconnection costs the catalog an accept and a close, the kernel's work for both
	// included. Zero closes such a connection as soon as it is accepted.
	HoldOverCap time.Duration
	// MaxHeld bounds the connections held at once by a listener, all clients together
	// (each is a file descriptor); one over it is closed at once. When the process runs
	// out of file descriptors, the listener closes the held connection whose hold ends
	// first to accept the next. Zero means 16,384, or a quarter of the process's
	// open-file limit when that is lower.
	MaxHeld int
	// ClientRate is how many requests a second one client may make on average; up to
	// ClientBurst at once. A request over it is answered 429 with Retry-After. Zero means
	// no limit.
	ClientRate float64
	// ClientBurst is the client's bucket size. Zero means max(1, ClientRate).
	ClientBurst int
	// TokenRate is how many requests a second may carry one bearer token (a team's, the
	// admin's or the read token), whatever their address; up to TokenBurst at once.
	// Requests without a known token are limited by ClientRate only. Zero means no
	// limit.
	TokenRate float64
	// TokenBurst is the token's bucket size. Zero means max(1, TokenRate).
	TokenBurst int
	// RefusalDelay paces the answers of a client over a rate: its 429 comes after
	// RefusalDelay (and Retry-After counts what is left of its bucket's wait, at least
	// 1 s). Answered at once, a client that ignores 429 sends its next request at once,
	// and the catalog spends its CPU on refusals: one client with 64 connections sent
	// 9,000 to 25,000 a second (answered after the bucket's own wait, 20 ms at 50 a
	// second, still 3,200). Delayed, each of its connections carries at most one refused
	// request per RefusalDelay. The wait holds no more than the
	// connection's goroutine already does, ends when the client goes away, and counts
	// against the service's HTTP_MAX_CONCURRENT when that is set. Zero answers at once.
	RefusalDelay time.Duration
	// MaxTracked bounds each table the limits keep (clients, tokens, instances that
	// heartbeat). An entry leaves its table once it is idle (its bucket full again, or
	// for an instance, no heartbeat for its TTL). Clients that find their table full of
	// busy entries share one bucket; heartbeats of instances that find theirs full are
	// checked against the store instead. Zero means 100,000.
	MaxTracked int
}

// DefaultLimits are the catalog program's default limits (docs/configuration.md):
// 64 connections per client (more held for 30 s, then closed), 50 requests a second per
// client (burst 100), 200 per token (burst 400), refusals paced by up to 1 s.
func DefaultLimits() Limits {
	return Limits{MaxConnsPerClient: 64, HoldOverCap: DefaultHoldOverCap, ClientRate: 50, ClientBurst: 100,
		TokenRate: 200, TokenBurst: 400, RefusalDelay: DefaultRefusalDelay}
}

// DefaultRefusalDelay is the default of Limits.RefusalDelay.
const DefaultRefusalDelay = time.Second

// DefaultHoldOverCap is the default of Limits.HoldOverCap.
const DefaultHoldOverCap = 30 * time.Second

// defaultMaxTracked is Limits.MaxTracked's default.
const defaultMaxTracked = 100_000

// sweepEvery is how often a table drops its idle entries while it is not full.
const sweepEvery = time.Minute

// Refusal reasons: the reason label of paved_catalog_refused_total.
const (
	reasonConnectionCap = "connection_cap"
	reasonClientRate    = "client_rate"
	reasonTokenRate     = "token_rate"
)

// limiter applies Limits. It is safe for concurrent use.
type limiter struct {
	clients *table[string]
	tokens  *table[[sha256.Size]byte]
	beats   *table[string]
	maxConn int
	hold    time.Duration
	pace    time.Duration // Limits.RefusalDelay
	maxHeld int
	// mu guards conns (the open connections by client) and helds (the held sets of the
	// open listeners).
	mu    sync.Mutex
	conns map[string]int
	helds map[*held]struct{}
}

func newLimiter(l Limits) *limiter {
	max := l.MaxTracked
	if max <= 0 {
		max = defaultMaxTracked
	}
	return &limiter{
		clients: newTable[string](l.ClientRate, l.ClientBurst, max),
		tokens:  newTable[[sha256.Size]byte](l.TokenRate, l.TokenBurst, max),
		beats:   newTable[string](0, 0, max),
		maxConn: l.MaxConnsPerClient,
		hold:    l.HoldOverCap,
		pace:    l.RefusalDelay,
		maxHeld: l.MaxHeld,
		conns:   map[string]int{},
		helds:   map[*held]struct{}{},
	}
}

// table is a bounded map of token buckets by key. No goroutine: idle entries are
// dropped when an insertion finds the table full (at most once a second) or once a
// minute. It is safe for concurrent use.
type table[K comparable] struct {
	limit rate.Limit // zero: no limit (tables of instances set it per entry)
	burst int
	max   int
	// mu guards the fields below.
	mu        sync.Mutex
	m         map[K]*entry
	overflow  *rate.Limiter // shared by the keys that find the table full
	lastSweep time.Time
	lastFull  time.Time
}

type entry struct {
	lim    *rate.Limiter
	idleAt time.Time // when dropping the entry changes nothing
}

func newTable[K comparable](perSecond float64, burst, max int) *table[K] {
	t := &table[K]{limit: rate.Limit(perSecond), burst: burst, max: max, m: map[K]*entry{}}
	if t.burst <= 0 {
		t.burst = max1(int(math.Ceil(perSecond)))
	}
	if perSecond > 0 {
		t.overflow = rate.NewLimiter(t.limit, t.burst)
	}
	return t
}

func max1(n int) int { return max(1, n) }

// on reports whether the table limits anything.
func (t *table[K]) on() bool { return t.limit > 0 }

// refill is how long an empty bucket of the table takes to fill.
func (t *table[K]) refill() time.Duration {
	return time.Duration(float64(t.burst) / float64(t.limit) * float64(time.Second))
}

// bucket returns key's bucket, creating it full; when the table is full of busy entries,
// the shared overflow bucket.
func (t *table[K]) bucket(key K, now time.Time) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	if e == nil {
		if !t.roomLocked(now) {
			return t.overflow
		}
		e = &entry{lim: rate.NewLimiter(t.limit, t.burst)}
		t.m[key] = e
	}
	e.idleAt = now.Add(t.refill())
	return e.lim
}

// roomLocked sweeps when it is time and reports whether a new entry fits.
func (t *table[K]) roomLocked(now time.Time) bool {
	if now.Sub(t.lastSweep) >= sweepEvery || (len(t.m) >= t.max && now.Sub(t.lastFull) >= time.Second) {
		if len(t.m) >= t.max {
			t.lastFull = now
		}
		t.lastSweep = now
		for k, e := range t.m {
			if !now.Before(e.idleAt) {
				delete(t.m, k)
			}
		}
	}
	return len(t.m) < t.max
}

// len returns the number of entries.
func (t *table[K]) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// clientKey returns the client of a remote address: the IPv4 address, or the IPv6 /64.
func clientKey(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		if a, aerr := netip.ParseAddr(remote); aerr == nil {
			ap = netip.AddrPortFrom(a, 0)
		} else {
			return remote
		}
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// LimitListener returns l with Options.Limits.MaxConnsPerClient applied: a connection
// from a client that holds that many open already is never read; it is held for
// Limits.HoldOverCap (at most Limits.MaxHeld of them), then closed, and counted in
// paved_catalog_refused_total{reason="connection_cap"}. Closing the returned listener
// closes the connections it holds. Give it to the server that serves s, such as
// service.Service.WrapHTTPListener. Without a cap it returns l.
func (s *Server) LimitListener(l net.Listener) net.Listener {
	if s.lim.maxConn <= 0 {
		return l
	}
	cl := &capListener{Listener: l, s: s}
	if s.lim.hold > 0 {
		cl.held = newHeld(s.lim.maxHeld, s.lim.hold)
		s.lim.mu.Lock()
		s.lim.helds[cl.held] = struct{}{}
		s.lim.mu.Unlock()
	}
	return cl
}

type capListener struct {
	net.Listener
	s    *Server
	held *held // nil: connections over the cap are closed at once
}

// Accept returns the next connection within its client's cap; those over it are held
// or closed.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if l.held != nil && outOfFiles(err) && l.held.closeFirst() {
				continue // a file descriptor is free again
			}
			return nil, err
		}
		key := clientKey(c.RemoteAddr().String())
		if l.s.lim.open(key) {
			return &capConn{Conn: c, release: func() { l.s.lim.close(key) }}, nil
		}
		l.s.met.refuse(reasonConnectionCap)
		if l.held != nil {
			l.held.add(c, time.Now())
		} else {
			_ = c.Close()
		}
	}
}

// Close closes the listener and the connections it holds.
func (l *capListener) Close() error {
	if l.held != nil {
		l.held.close()
		l.s.lim.mu.Lock()
		delete(l.s.lim.helds, l.held)
		l.s.lim.mu.Unlock()
	}
	return l.Listener.Close()
}

// heldConns returns how many connections the open listeners hold.
func (l *limiter) heldConns() int {
	l.mu.Lock()
	hs := make([]*held, 0, len(l.helds))
	for h := range l.helds {
		hs = append(hs, h)
	}
	l.mu.Unlock()
	n := 0
	for _, h := range hs {
		n += h.len()
	}
	return n
}

// open counts a new connection of client key, or reports false when it is at its cap.
func (l *limiter) open(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[key] >= l.maxConn {
		return false
	}
	l.conns[key]++
	return true
}

// close uncounts a connection of client key; a client with none left leaves the map.
func (l *limiter) close(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[key]--; l.conns[key] <= 0 {
		delete(l.conns, key)
	}
}

// openConns returns how many clients hold connections.
func (l *limiter) openClients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

type capConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *capConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// heartbeatTarget returns the component and id of a heartbeat: PUT
// /api/v1/components/{name}/instances/{id} with If-Match: *.
func heartbeatTarget(r *http.Request) (component, id string, ok bool) {
	if r.Method != http.MethodPut || strings.TrimSpace(r.Header.Get("If-Match")) != "*" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/api/v1/components/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "instances" || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// knownToken returns the SHA-256 of the request's bearer token when it is one the
// catalog knows (the admin's, the read token or a team's).
func (s *Server) knownToken(r *http.Request) ([sha256.Size]byte, bool) {
	tok := bearer(r)
	if tok == "" {
		return [sha256.Size]byte{}, false
	}
	h := sha256.Sum256([]byte(tok))
	if hashEqual(tok, s.admin) || hashEqual(tok, s.read) {
		return h, true
	}
	_, ok := s.tokens.team(tok)
	return h, ok
}

// Heartbeat budget of an instance: one every TTL/3, three at once.
const beatBurst = 3

// beatKey names an instance in the heartbeat table.
func beatKey(component, id string) string { return component + "/" + id }

// beatLimit returns the heartbeat rate of an instance with ttl.
func beatLimit(ttl time.Duration) rate.Limit {
	if ttl <= 0 {
		ttl = time.Duration(catalog.MinTTLSeconds) * time.Second
	}
	return rate.Every(ttl / beatBurst)
}

// mayBeat reports whether a heartbeat of component/id at now is exempt from the request
// rates: the instance is registered (the table knows it from a registration or a
// heartbeat; else the store is asked) and its heartbeat budget is not spent.
func (s *Server) mayBeat(ctx context.Context, component, id string, now time.Time) bool {
	t := s.lim.beats
	key := beatKey(component, id)
	t.mu.Lock()
	e := t.m[key]
	t.mu.Unlock()
	if e != nil {
		return e.lim.TokensAt(now) >= 1
	}
	in, err := s.base.GetInstance(ctx, component, id)
	if err != nil {
		return false // unknown, or the store failed: charged like any request
	}
	if !s.trackBeat(in, now, false) {
		// The table is full: decide from the stored heartbeat time.
		return in.LastHeartbeat.IsZero() || now.Sub(in.LastHeartbeat) >= in.TTL()/beatBurst/2
	}
	return true
}

// trackBeat records a registration (spent false) or a heartbeat (spent true) of in at
// now. It reports false when the table had no room for it.
func (s *Server) trackBeat(in catalog.Instance, now time.Time, spent bool) bool {
	t := s.lim.beats
	key := beatKey(in.Component, in.ID)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	if e == nil {
		if !t.roomLocked(now) {
			return false
		}
		e = &entry{lim: rate.NewLimiter(beatLimit(in.TTL()), beatBurst)}
		t.m[key] = e
	}
	if l := beatLimit(in.TTL()); e.lim.Limit() != l {
		e.lim.SetLimitAt(now, l)
	}
	ttl := in.TTL()
	if ttl <= 0 {
		ttl = time.Duration(catalog.MinTTLSeconds) * time.Second
	}
	e.idleAt = now.Add(ttl)
	if spent {
		_ = e.lim.ReserveN(now, 1) // may go into debt: concurrent heartbeats all count
	}
	return true
}

// forgetBeat drops an instance from the heartbeat table.
func (s *Server) forgetBeat(component, id string) {
	t := s.lim.beats
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, beatKey(component, id))
}

// admit charges a request to its client's and its token's buckets. When either is
// spent it charges neither and returns how long to wait and the refusal reason.
func (s *Server) admit(client string, tok [sha256.Size]byte, known bool, now time.Time) (time.Duration, string) {
	var rc *rate.Reservation
	if s.lim.clients.on() {
		rc = s.lim.clients.bucket(client, now).ReserveN(now, 1)
		if d := rc.DelayFrom(now); d > 0 {
			rc.CancelAt(now)
			return d, reasonClientRate
		}
	}
	if known && s.lim.tokens.on() {
		rt := s.lim.tokens.bucket(tok, now).ReserveN(now, 1)
		if d := rt.DelayFrom(now); d > 0 {
			rt.CancelAt(now)
			if rc != nil {
				rc.CancelAt(now)
			}
			return d, reasonTokenRate
		}
	}
	return 0, ""
}

// charge takes one request from the client's and the token's buckets whatever their
// level (they may go into debt): for a heartbeat let through as exempt that failed.
func (s *Server) charge(client string, tok [sha256.Size]byte, known bool, now time.Time) {
	if s.lim.clients.on() {
		_ = s.lim.clients.bucket(client, now).ReserveN(now, 1)
	}
	if known && s.lim.tokens.on() {
		_ = s.lim.tokens.bucket(tok, now).ReserveN(now, 1)
	}
}

// inDebt reports whether the client's or the token's bucket is below empty, which only
// failed exempt heartbeats cause (refused requests take nothing): such a sender loses
// the heartbeat exemption until its bucket refills.
func (s *Server) inDebt(client string, tok [sha256.Size]byte, known bool, now time.Time) bool {
	if s.lim.clients.on() && s.lim.clients.bucket(client, now).TokensAt(now) < 0 {
		return true
	}
	return known && s.lim.tokens.on() && s.lim.tokens.bucket(tok, now).TokensAt(now) < 0
}

// rateGuard applies the request rates and counts refusals and heartbeats around next.
func (s *Server) rateGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		client := clientKey(r.RemoteAddr)
		tok, known := s.knownToken(r)
		comp, id, hb := heartbeatTarget(r)
		rec := &statusWriter{ResponseWriter: w}
		if hb && (known || s.opts.Open) && !s.inDebt(client, tok, known, now) && s.mayBeat(r.Context(), comp, id, now) {
			next.ServeHTTP(rec, r)
			if rec.status != http.StatusOK {
				// Not a heartbeat of a registered instance by its owner after all: it
				// costs its sender as any request, and the instance is checked again
				// against the store next time.
				s.charge(client, tok, known, now)
				s.forgetBeat(comp, id)
			}
			s.met.answered(rec.status, hb)
			return
		}
		if wait, reason := s.admit(client, tok, known, now); wait > 0 {
			s.met.refuse(reason)
			if d := s.lim.pace; d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
					wait = max(0, wait-d)
				case <-r.Context().Done():
					t.Stop()
					return // the client went away
				}
			}
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			who := "this client address"
			if reason == reasonTokenRate {
				who = "this token"
			}
			s.problem(w, r, http.StatusTooManyRequests, "too many requests from "+who+"; retry after "+strconv.Itoa(secs)+" s", nil)
			return
		}
		next.ServeHTTP(rec, r)
		s.met.answered(rec.status, hb)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observeInstance keeps the heartbeat table in step with a store call on an instance.
func (s *Server) observeInstance(op string, in catalog.Instance, err error) {
	switch {
	case err == nil && op == opPutInstance:
		s.trackBeat(in, s.now(), false)
	case err == nil && op == opHeartbeatInstance:
		s.trackBeat(in, s.now(), true)
	case errors.Is(err, store.ErrNotFound):
		s.forgetBeat(in.Component, in.ID)
	}
}
