package checks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
)

// Func is a health check: nil means healthy. It is the type of health.Check.Check.
type Func = func(ctx context.Context) error

// ErrInvalidArgument is wrapped by every constructor error.
var ErrInvalidArgument = errors.New("checks: invalid argument")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// HTTPOptions configures HTTP. The zero value is valid.
type HTTPOptions struct {
	// Client sends the request. Nil means a client with its own transport (a new
	// connection per run, so each run proves the dependency reachable) that follows no
	// redirects (a 3xx answer is the status checked).
	Client *http.Client
	// MinStatus and MaxStatus bound the accepted status codes, inclusive. Zero means
	// 200 and 399.
	MinStatus, MaxStatus int
	// Header is added to the request (for example a Host or an auth token).
	Header http.Header
}

// HTTP returns a check that GETs rawURL and passes when the answer's status is within
// [MinStatus, MaxStatus]. rawURL must be an absolute http or https URL.
func HTTP(rawURL string, opts HTTPOptions) (Func, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("HTTP url %q: want an absolute http:// or https:// URL", rawURL)
	}
	lo, hi := opts.MinStatus, opts.MaxStatus
	if lo == 0 {
		lo = 200
	}
	if hi == 0 {
		hi = 399
	}
	if lo < 100 || hi > 599 || lo > hi {
		return nil, invalid("HTTP status range %d-%d: want 100 <= MinStatus <= MaxStatus <= 599", lo, hi)
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{
			Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	header := opts.Header.Clone()
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < lo || resp.StatusCode > hi {
			return fmt.Errorf("GET %s: status %d, want %d-%d", u.Redacted(), resp.StatusCode, lo, hi)
		}
		return nil
	}, nil
}

// TCP returns a check that passes when a TCP connection to addr ("host:port") opens.
func TCP(addr string) (Func, error) {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return nil, invalid("TCP addr %q: want host:port", addr)
	}
	var d net.Dialer
	return func(ctx context.Context) error {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}, nil
}

// Pinger is what SQL needs of a database; *sql.DB and *sql.Conn implement it.
type Pinger interface {
	PingContext(ctx context.Context) error
}

var _ Pinger = (*sql.DB)(nil)

// SQL returns a check that pings db (for *sql.DB: takes or opens a connection and
// pings the server).
func SQL(db Pinger) (Func, error) {
	if db == nil {
		return nil, invalid("SQL db is nil: want a *sql.DB")
	}
	if d, ok := db.(*sql.DB); ok && d == nil {
		return nil, invalid("SQL db is a nil *sql.DB")
	}
	return db.PingContext, nil
}

// DNSOptions configures DNS. The zero value is valid.
type DNSOptions struct {
	// Resolver looks the name up. Nil means net.DefaultResolver.
	Resolver *net.Resolver
	// MinAddrs is the least number of addresses that must come back. Zero means 1.
	MinAddrs int
}

// DNS returns a check that passes when host resolves to at least MinAddrs addresses.
func DNS(host string, opts DNSOptions) (Func, error) {
	if host == "" || strings.ContainsAny(host, " /:") {
		return nil, invalid("DNS host %q: want a host name such as db.internal", host)
	}
	if opts.MinAddrs < 0 {
		return nil, invalid("DNS MinAddrs %d: want 0 (default 1) or more", opts.MinAddrs)
	}
	res := opts.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	want := max(opts.MinAddrs, 1)
	return func(ctx context.Context) error {
		addrs, err := res.LookupHost(ctx, host)
		if err != nil {
			return err
		}
		if len(addrs) < want {
			return fmt.Errorf("lookup %s: %d addresses, want at least %d", host, len(addrs), want)
		}
		return nil
	}, nil
}

// EtcdOptions configures Etcd. The zero value is valid.
type EtcdOptions struct {
	// Client sends the request. Nil means a client with its own transport and a new
	// connection per run.
	Client *http.Client
}

// Etcd returns a check of one etcd member through its HTTP /health endpoint (client
// URL, such as http://127.0.0.1:2379): it passes when the member answers
// {"health":"true"}, which needs a leader and a working quorum.
func Etcd(endpoint string, opts EtcdOptions) (Func, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("Etcd endpoint %q: want a client URL such as http://127.0.0.1:2379", endpoint)
	}
	healthURL := strings.TrimSuffix(endpoint, "/") + "/health"
	client := opts.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Health string `json:"health"`
			Reason string `json:"reason"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
			return fmt.Errorf("etcd %s: status %d, unreadable /health answer: %w", u.Host, resp.StatusCode, err)
		}
		if body.Health != "true" {
			if body.Reason != "" {
				return fmt.Errorf("etcd %s: unhealthy: %s", u.Host, body.Reason)
			}
			return fmt.Errorf("etcd %s: unhealthy (status %d)", u.Host, resp.StatusCode)
		}
		return nil
	}, nil
}

// Goroutines returns a check that fails when the process has more than limit goroutines,
// a sign of a leak.
func Goroutines(limit int) (Func, error) {
	if limit <= 0 {
		return nil, invalid("Goroutines limit %d: want a positive count", limit)
	}
	return func(context.Context) error {
		if n := runtime.NumGoroutine(); n > limit {
			return fmt.Errorf("%d goroutines, want at most %d", n, limit)
		}
		return nil
	}, nil
}

// Heap returns a check that fails when live heap objects take more than limit bytes (the
// runtime/metrics value /memory/classes/heap/objects:bytes; reading it does not stop the
// world).
func Heap(limit uint64) (Func, error) {
	if limit == 0 {
		return nil, invalid("Heap limit 0: want a positive byte count")
	}
	return func(context.Context) error {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			return errors.New("heap size metric unsupported by this runtime")
		}
		if n := s[0].Value.Uint64(); n > limit {
			return fmt.Errorf("heap objects %d bytes, want at most %d", n, limit)
		}
		return nil
	}, nil
}
