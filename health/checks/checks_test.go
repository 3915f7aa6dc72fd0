package checks_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/paved-road/paved/health/checks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/moved":
			http.Redirect(w, r, "/down", http.StatusFound)
		case "/auth":
			if r.Header.Get("Authorization") != "Bearer s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
			}
		case "/hang":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	tests := []struct {
		path    string
		opts    checks.HTTPOptions
		timeout time.Duration
		wantErr string // "" means pass
	}{
		{"/ok", checks.HTTPOptions{}, 0, ""},
		{"/down", checks.HTTPOptions{}, 0, "status 503, want 200-399"},
		{"/empty", checks.HTTPOptions{MinStatus: 204, MaxStatus: 204}, 0, ""},
		{"/ok", checks.HTTPOptions{MinStatus: 204, MaxStatus: 204}, 0, "status 200, want 204-204"},
		{"/moved", checks.HTTPOptions{}, 0, ""}, // the 302 itself is checked
		{"/moved", checks.HTTPOptions{MaxStatus: 299}, 0, "status 302, want 200-299"},
		{"/auth", checks.HTTPOptions{}, 0, "status 401"},
		{"/auth", checks.HTTPOptions{Header: http.Header{"Authorization": {"Bearer s3cret"}}}, 0, ""},
		{"/hang", checks.HTTPOptions{}, 100 * time.Millisecond, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			check, err := checks.HTTP(srv.URL+tt.path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			assertErr(t, check(ctx), tt.wantErr)
		})
	}
	// A server that is gone.
	addr := closedAddr(t)
	check, _ := checks.HTTP("http://"+addr+"/", checks.HTTPOptions{})
	assertErr(t, check(ctxT(t)), "connection refused")
}

func TestConstructorsRefuseBadArguments(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"http relative", second(checks.HTTP("/healthz", checks.HTTPOptions{})), `HTTP url "/healthz": want an absolute http:// or https:// URL`},
		{"http scheme", second(checks.HTTP("ftp://x/", checks.HTTPOptions{})), "want an absolute http://"},
		{"http range", second(checks.HTTP("http://x/", checks.HTTPOptions{MinStatus: 500, MaxStatus: 200})), "HTTP status range 500-200"},
		{"tcp", second(checks.TCP("localhost")), `TCP addr "localhost": want host:port`},
		{"sql nil", second(checks.SQL(nil)), "SQL db is nil"},
		{"sql nil db", second(checks.SQL((*sql.DB)(nil))), "nil *sql.DB"},
		{"dns empty", second(checks.DNS("", checks.DNSOptions{})), `DNS host "": want a host name`},
		{"dns url", second(checks.DNS("http://x", checks.DNSOptions{})), "want a host name"},
		{"dns min", second(checks.DNS("x", checks.DNSOptions{MinAddrs: -1})), "DNS MinAddrs -1"},
		{"etcd", second(checks.Etcd("127.0.0.1:2379", checks.EtcdOptions{})), `Etcd endpoint "127.0.0.1:2379": want a client URL`},
		{"goroutines", second(checks.Goroutines(0)), "Goroutines limit 0: want a positive count"},
		{"heap", second(checks.Heap(0)), "Heap limit 0"},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, checks.ErrInvalidArgument) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrInvalidArgument containing %q", tt.name, tt.err, tt.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestTCP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	defer wg.Wait()
	defer lis.Close()
	check, err := checks.TCP(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	assertErr(t, check(ctxT(t)), "")
	check, _ = checks.TCP(closedAddr(t))
	assertErr(t, check(ctxT(t)), "connection refused")
}

// fakePinger is a named fake of a database handle: SQL only calls PingContext, and the
// real-driver test (SQLite through database/sql) lives in the integration module so the
// core's go.mod needs no driver.
type fakePinger struct{ err error }

func (p fakePinger) PingContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.err
}

func TestSQL(t *testing.T) {
	check, err := checks.SQL(fakePinger{})
	if err != nil {
		t.Fatal(err)
	}
	assertErr(t, check(ctxT(t)), "")
	check, _ = checks.SQL(fakePinger{err: sql.ErrConnDone})
	assertErr(t, check(ctxT(t)), "sql: connection is already closed")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check, _ = checks.SQL(fakePinger{})
	assertErr(t, check(ctx), "context canceled")
	if _, err := checks.SQL(nil); err == nil {
		t.Errorf("SQL(nil): got nil error, want one")
	}
}

// dnsServer is a tiny authoritative DNS server on loopback UDP: db.paved.test has two
// A records, every other name is NXDOMAIN.
func dnsServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			hdr, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			rh := dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true}
			known := strings.EqualFold(q.Name.String(), "db.paved.test.")
			if !known {
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if known && q.Type == dnsmessage.TypeA {
				for _, ip := range [][4]byte{{10, 0, 0, 7}, {10, 0, 0, 8}} {
					_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: ip})
				}
			}
			msg, err := b.Finish()
			if err != nil {
				continue
			}
			_, _ = pc.WriteTo(msg, from)
		}
	})
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

func TestDNS(t *testing.T) {
	addr := dnsServer(t)
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	tests := []struct {
		host    string
		min     int
		wantErr string
	}{
		{"db.paved.test.", 0, ""},
		{"db.paved.test.", 2, ""},
		{"db.paved.test.", 3, "lookup db.paved.test.: 2 addresses, want at least 3"},
		{"nope.paved.test.", 0, "no such host"},
	}
	for _, tt := range tests {
		check, err := checks.DNS(tt.host, checks.DNSOptions{Resolver: res, MinAddrs: tt.min})
		if err != nil {
			t.Fatal(err)
		}
		assertErr(t, check(ctxT(t)), tt.wantErr)
	}
}

// TestEtcd runs against a real etcd member whose client URL is in
// PAVED_TEST_ETCD_ENDPOINTS (the first, when comma-separated).
func TestEtcd(t *testing.T) {
	eps := os.Getenv("PAVED_TEST_ETCD_ENDPOINTS")
	if eps == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_ETCD_ENDPOINTS is not set")
		}
		t.Skip("PAVED_TEST_ETCD_ENDPOINTS is not set")
	}
	ep := strings.Split(eps, ",")[0]
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	check, err := checks.Etcd(ep, checks.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertErr(t, check(ctxT(t)), "")

	check, _ = checks.Etcd("http://"+closedAddr(t), checks.EtcdOptions{})
	assertErr(t, check(ctxT(t)), "connection refused")
}

func TestGoroutines(t *testing.T) {
	base := countGoroutines()
	check, err := checks.Goroutines(base + 20)
	if err != nil {
		t.Fatal(err)
	}
	assertErr(t, check(ctxT(t)), "")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { <-stop })
	}
	assertErr(t, check(ctxT(t)), "goroutines, want at most")
	close(stop)
	wg.Wait()
}

func countGoroutines() int {
	var n int
	for range 3 { // settle
		n = runtime.NumGoroutine()
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

func TestHeap(t *testing.T) {
	check, err := checks.Heap(1 << 40)
	if err != nil {
		t.Fatal(err)
	}
	assertErr(t, check(ctxT(t)), "")
	check, _ = checks.Heap(1024)
	assertErr(t, check(ctxT(t)), "want at most 1024")
}

func assertErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got %v, want nil", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}
