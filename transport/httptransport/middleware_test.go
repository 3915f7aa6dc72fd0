package httptransport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/transport/httptransport"
)

func decodeProblem(t *testing.T, resp *http.Response) httptransport.Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != httptransport.ProblemContentType {
		t.Errorf("Content-Type: got %q, want %q", ct, httptransport.ProblemContentType)
	}
	var p httptransport.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("decoding problem: %v", err)
	}
	return p
}

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := httptransport.Recover(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("secret internal state")
		}
		fmt.Fprint(w, "fine")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	// One connection for both requests: the panic must not cost the connection.
	var conns atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, n, a)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, err := client.Get(srv.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	p := decodeProblem(t, resp)
	resp.Body.Close()
	if resp.StatusCode != 500 || p.Status != 500 || strings.Contains(p.Detail, "secret") {
		t.Errorf("panic answer: got %d %+v, want 500 without the panic text", resp.StatusCode, p)
	}
	resp, err = client.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "fine" {
		t.Errorf("next request: got %d %q, want 200 fine", resp.StatusCode, b)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections: got %d, want 1 (the panic closed the connection)", n)
	}
	if !strings.Contains(logs.String(), "secret internal state") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log lacks the panic and its stack: %s", logs.String())
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"absent", "", false},
		{"well formed", "abc-123_x.y:z", true},
		{"too long", strings.Repeat("a", 129), false},
		{"bad characters", "abc def\x01", false},
		{"header injection", "a\r\nSet-Cookie: x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := httptransport.RequestID()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = httptransport.RequestIDFrom(r.Context())
			}))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.in != "" {
				r.Header.Set("X-Request-ID", tt.in)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-ID")
			if got != seen || got == "" {
				t.Errorf("echoed %q, context %q: want the same non-empty id", got, seen)
			}
			if tt.keep && got != tt.in {
				t.Errorf("got %q, want the caller's %q", got, tt.in)
			}
			if !tt.keep && got == tt.in {
				t.Errorf("kept the malformed id %q", got)
			}
		})
	}
}

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	c.n.Add(int64(k))
	return k, err
}

func TestBodyLimitChunkedOverLoopback(t *testing.T) {
	const limit = 64 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	handlerErr := make(chan error, 1)
	srv := &http.Server{Handler: httptransport.BodyLimit(limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		handlerErr <- err
		if err != nil {
			http.Error(w, "should be replaced", 400)
			return
		}
		fmt.Fprint(w, "ok")
	}))}
	go func() { _ = srv.Serve(cl) }()
	defer srv.Close()

	// A raw chunked upload of 16 MiB: the server must answer 413 having read at most
	// the limit plus 4 KiB (headers included).
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	header := "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n"
	fmt.Fprint(conn, header)
	go func() {
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for i := 0; i < 512; i++ {
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return // the server closed the connection: expected
			}
		}
		fmt.Fprint(conn, "0\r\n\r\n")
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeProblem(t, resp)
	if resp.StatusCode != 413 || p.Status != 413 {
		t.Errorf("got %d %+v, want 413", resp.StatusCode, p)
	}
	var mbe *http.MaxBytesError
	if err := <-handlerErr; !errors.As(err, &mbe) {
		t.Errorf("handler read error: got %v, want *http.MaxBytesError", err)
	}
	time.Sleep(100 * time.Millisecond) // let the server stop reading
	// Allowed: the headers, the limit, 4 KiB, and the chunk framing ("8000\r\n...\r\n").
	allowed := int64(len(header) + limit + 4<<10 + 8*(limit/(32<<10)+2))
	if n := cl.read.Load(); n > allowed {
		t.Errorf("server read %d bytes, want at most headers + limit + 4 KiB + framing (%d)", n, allowed)
	}
}

func TestBodyLimitTable(t *testing.T) {
	h := httptransport.BodyLimit(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return // the middleware answers
		}
		fmt.Fprintf(w, "%d", len(b))
	}))
	tests := []struct {
		name     string
		body     string
		chunked  bool
		wantCode int
	}{
		{"under", "12345", false, 200},
		{"exact", "1234567890", false, 200},
		{"declared over", "12345678901", false, 413},
		{"chunked over", "12345678901", true, 413},
		{"chunked under", "123", true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Errorf("got %d, want %d", w.Code, tt.wantCode)
			}
		})
	}
}

func TestConcurrencyLimitSheds(t *testing.T) {
	release := make(chan struct{})
	var shed atomic.Int32
	h := httptransport.ConcurrencyLimit(2, 1500*time.Millisecond, func(*http.Request) { shed.Add(1) })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				<-release
			}
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/hold")
			if err == nil {
				codes <- resp.StatusCode
				resp.Body.Close()
			}
		}()
	}
	// Wait until both slots are taken, then a third request is shed at once.
	deadline := time.Now().Add(5 * time.Second)
	var resp *http.Response
	for time.Now().Before(deadline) {
		r, err := http.Get(srv.URL + "/probe")
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode == 503 {
			resp = r
			break
		}
		r.Body.Close()
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	if resp == nil {
		t.Fatal("no request was shed with two slots held")
	}
	defer resp.Body.Close()
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After: got %q, want 2 (1.5s rounded up)", ra)
	}
	decodeProblem(t, resp)
	if shed.Load() < 1 {
		t.Error("onShed not called")
	}
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("admitted request: got %d, want 200", c)
		}
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantCode int
	}{
		{"fast", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }, 200},
		{"respects ctx", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 504},
		{"answers itself", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			http.Error(w, "gave up", http.StatusServiceUnavailable)
		}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httptransport.Timeout(20*time.Millisecond)(tt.handler).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Code != tt.wantCode {
				t.Errorf("got %d, want %d", w.Code, tt.wantCode)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name    string
		opts    httptransport.AccessLogOptions
		status  int
		wantLog bool
	}{
		{"off, 200", httptransport.AccessLogOptions{}, 200, false},
		{"off, 500 always logged", httptransport.AccessLogOptions{}, 500, true},
		{"all, 200", httptransport.AccessLogOptions{SampleRate: 1}, 200, true},
		{"client errors", httptransport.AccessLogOptions{LogClientErrors: true}, 404, true},
		{"client errors off", httptransport.AccessLogOptions{}, 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) })
			h := httptransport.AccessLog(slog.New(slog.NewJSONHandler(&buf, nil)), tt.opts)(mux)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/42", nil))
			if got := buf.Len() > 0; got != tt.wantLog {
				t.Fatalf("logged: got %v, want %v (%s)", got, tt.wantLog, buf.String())
			}
			if tt.wantLog && !strings.Contains(buf.String(), `"route":"GET /items/{id}"`) {
				t.Errorf("log lacks the route pattern: %s", buf.String())
			}
		})
	}
}

func TestStackBoundsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	h, err := httptransport.Stack(mux, httptransport.StackOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "X-" + "RANDOM"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		m := methods[rng.IntN(len(methods))]
		if m == "X-RANDOM" {
			m = fmt.Sprintf("M%d", rng.IntN(1e6))
		}
		path := fmt.Sprintf("/%x/%d", rng.Uint64(), i)
		if i%3 == 0 {
			path = fmt.Sprintf("/items/%d", i)
		}
		r := httptest.NewRequest("GET", path, nil)
		r.Method = m
		r.Header.Set("X-Random", fmt.Sprint(rng.Uint64()))
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	n := testutil.CollectAndCount(reg, "http_server_request_duration_seconds")
	// routes (2 + unmatched) × methods (9 standard + _OTHER) × a few status codes.
	if n > 3*10*4 {
		t.Errorf("got %d series after 100,000 random requests, want them bounded by routes × methods × statuses", n)
	}
	t.Logf("%d series", n)
}
