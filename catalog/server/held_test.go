package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
)

// pipeListener is a fake net.Listener for tests in a synctest bubble, where real
// sockets cannot run: Accept returns the server ends of net.Pipe connections that dial
// creates, each with the client address it was given, or the error fail queued.
type pipeListener struct {
	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), errs: make(chan error, 1), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }

// dial returns the client end of a new connection from address from.
func (l *pipeListener) dial(t *testing.T, from string) net.Conn {
	t.Helper()
	c, s := net.Pipe()
	l.conns <- fromConn{Conn: s, remote: &net.TCPAddr{IP: net.ParseIP(from), Port: 40000}}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fail makes the next Accept return err.
func (l *pipeListener) fail(err error) { l.errs <- err }

type fromConn struct {
	net.Conn
	remote net.Addr
}

func (c fromConn) RemoteAddr() net.Addr { return c.remote }

// ask sends one request on c and returns its status.
func ask(t *testing.T, c net.Conn) int {
	t.Helper()
	go func() { _, _ = io.WriteString(c, "GET /api/v1/components HTTP/1.1\r\nHost: catalog\r\n\r\n") }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// watchClose reports on the returned channel when the server closes c (a read ends).
func watchClose(c net.Conn) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		_, _ = c.Read(make([]byte, 1))
		ch <- time.Now()
	}()
	return ch
}

// closedBy reports whether ch says the connection was closed.
func closedBy(ch <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-ch:
		return at, true
	default:
		return time.Time{}, false
	}
}

// TestOverCapConnectionsAreHeld: a connection over its client's cap is not answered and
// not closed at once but held, unread, for Limits.HoldOverCap give or take a quarter,
// then closed; at most Limits.MaxHeld are held and those over the bound are closed at
// once; another client is served all along; the client's connections within the cap
// still work; closing the listener closes what it holds.
func TestOverCapConnectionsAreHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Options{})
		defer st.Close()
		reg := prometheus.NewPedanticRegistry()
		const hold = 10 * time.Second
		srv := server.New(st, server.Options{Registerer: reg,
			Limits: server.Limits{MaxConnsPerClient: 2, HoldOverCap: hold, MaxHeld: 3}})
		l := newPipeListener()
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: time.Minute}
		done := make(chan error, 1)
		go func() { done <- hs.Serve(srv.LimitListener(l)) }()
		defer hs.Close()

		within := []net.Conn{l.dial(t, "10.0.0.2"), l.dial(t, "10.0.0.2")}
		for i, c := range within {
			if got := ask(t, c); got != 200 {
				t.Fatalf("connection %d within the cap: got %d, want 200", i, got)
			}
		}
		start := time.Now()
		var closes []<-chan time.Time
		for range 3 {
			closes = append(closes, watchClose(l.dial(t, "10.0.0.2")))
		}
		over := watchClose(l.dial(t, "10.0.0.2")) // over MaxHeld
		synctest.Wait()
		if _, ok := closedBy(over); !ok {
			t.Fatal("a connection over the bound of held connections is open, want it closed at once")
		}
		for i, ch := range closes {
			if _, ok := closedBy(ch); ok {
				t.Fatalf("connection %d over the cap was closed at once, want it held", i)
			}
		}
		if n := testutil.ToFloat64(gaugeOf(t, reg, server.MetricLimiterEntries, "table", "held")); n != 3 {
			t.Errorf("%s{table=held}: got %v, want 3", server.MetricLimiterEntries, n)
		}
		if n := testutil.ToFloat64(refusedCounter(t, reg, "connection_cap")); n != 4 {
			t.Errorf("paved_catalog_refused_total{reason=connection_cap}: got %v, want 4", n)
		}

		// While they are held, another client and the client's own connections are
		// served.
		other := l.dial(t, "10.0.0.3")
		for range 3 {
			if got := ask(t, other); got != 200 {
				t.Fatalf("another client: got %d, want 200", got)
			}
		}
		if got := ask(t, within[0]); got != 200 {
			t.Fatalf("a connection within the cap: got %d, want 200", got)
		}

		time.Sleep(hold*3/4 - time.Millisecond)
		synctest.Wait()
		for i, ch := range closes {
			if _, ok := closedBy(ch); ok {
				t.Fatalf("held connection %d was closed before three quarters of the hold", i)
			}
		}
		time.Sleep(hold/2 + 2*time.Millisecond)
		synctest.Wait()
		for i, ch := range closes {
			at, ok := closedBy(ch)
			if !ok {
				t.Fatalf("held connection %d is still open after 1.25 times the hold", i)
			}
			if d := at.Sub(start); d < hold*3/4 || d > hold*5/4 {
				t.Errorf("held connection %d was closed after %v, want within 25 %% of %v", i, d, hold)
			}
		}
		if n := testutil.ToFloat64(gaugeOf(t, reg, server.MetricLimiterEntries, "table", "held")); n != 0 {
			t.Errorf("%s{table=held} after the holds: got %v, want 0", server.MetricLimiterEntries, n)
		}

		// Closing the server (its listener) closes the connections it holds at once.
		last := watchClose(l.dial(t, "10.0.0.2"))
		synctest.Wait()
		if _, ok := closedBy(last); ok {
			t.Fatal("a connection over the cap was closed at once, want it held")
		}
		_ = hs.Close()
		synctest.Wait()
		if _, ok := closedBy(last); !ok {
			t.Fatal("a held connection is open after the server closed")
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	})
}

// TestHeldConnectionsGiveWayToNewOnes: when accepting fails for want of file
// descriptors, the listener closes one held connection and accepts again,
// instead of handing the error to the server (which would pause accepting).
func TestHeldConnectionsGiveWayToNewOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Options{})
		defer st.Close()
		srv := server.New(st, server.Options{Registerer: prometheus.NewPedanticRegistry(),
			Limits: server.Limits{MaxConnsPerClient: 1, HoldOverCap: time.Hour}})
		l := newPipeListener()
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: time.Minute}
		done := make(chan error, 1)
		go func() { done <- hs.Serve(srv.LimitListener(l)) }()
		defer func() {
			_ = hs.Close()
			<-done
		}()

		if got := ask(t, l.dial(t, "10.0.0.2")); got != 200 {
			t.Fatalf("within the cap: got %d, want 200", got)
		}
		first := watchClose(l.dial(t, "10.0.0.2"))
		time.Sleep(time.Second)
		second := watchClose(l.dial(t, "10.0.0.2"))
		synctest.Wait()
		if _, ok := closedBy(first); ok {
			t.Fatal("a connection over the cap was closed at once, want it held")
		}
		l.fail(&net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)})
		synctest.Wait()
		_, firstClosed := closedBy(first)
		_, secondClosed := closedBy(second)
		if firstClosed == secondClosed {
			t.Fatalf("out of file descriptors: held connections closed: %v and %v, want one of them", firstClosed, secondClosed)
		}
		// Accepting goes on at once: another client is served without the server's
		// pause after an accept error.
		start := time.Now()
		if got := ask(t, l.dial(t, "10.0.0.3")); got != 200 {
			t.Fatalf("another client after the error: got %d, want 200", got)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the next connection was accepted after %v, want at once", d)
		}
	})
}
