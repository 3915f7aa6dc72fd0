package service_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// countingListener counts the connections it accepts and closes the first refuse of
// them at once.
type countingListener struct {
	net.Listener
	accepted *atomic.Int32
	refuse   int32
}

func (l countingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.accepted.Add(1); n > l.refuse {
			return c, nil
		}
		_ = c.Close()
	}
}

// TestWrapHTTPListener: the public server accepts through the wrappers, in the order
// given; what a wrapper closes is never served; the admin server is not wrapped.
func TestWrapHTTPListener(t *testing.T) {
	s := newTestService(t, nil)
	s.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	var inner, outer atomic.Int32
	var mu sync.Mutex
	var order []string
	s.WrapHTTPListener(func(l net.Listener) net.Listener {
		mu.Lock()
		order = append(order, "inner")
		mu.Unlock()
		return countingListener{Listener: l, accepted: &inner, refuse: 1}
	})
	s.WrapHTTPListener(func(l net.Listener) net.Listener {
		mu.Lock()
		order = append(order, "outer")
		mu.Unlock()
		if _, ok := l.(countingListener); !ok {
			t.Errorf("the second wrapper got %T, want the first wrapper's listener", l)
		}
		return countingListener{Listener: l, accepted: &outer}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	defer func() { cancel(); <-done }()

	if got := s.HTTPAddr().String(); got == "" {
		t.Fatal("no HTTP address")
	}
	// The first connection is closed by the inner wrapper: the request fails.
	c, err := net.Dial("tcp", s.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"))
	buf := make([]byte, 64)
	if n, err := c.Read(buf); err == nil {
		t.Errorf("the refused connection answered %q, want it closed", buf[:n])
	}
	_ = c.Close()
	// The next one is served.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + s.HTTPAddr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	if code, _ := get(t, "http://"+s.AdminAddr().String()+"/livez"); code != http.StatusOK {
		t.Fatalf("admin /livez: got %d, want 200", code)
	}
	if got, want := inner.Load(), int32(2); got != want {
		t.Errorf("inner wrapper accepted %d connections, want %d (the admin server's are not wrapped)", got, want)
	}
	if got, want := outer.Load(), int32(1); got != want {
		t.Errorf("outer wrapper accepted %d connections, want %d", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "inner" || order[1] != "outer" {
		t.Errorf("wrappers applied in order %v, want [inner outer]", order)
	}
}
