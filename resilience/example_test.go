package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/paved-road/paved/resilience"
)

func ExampleNewBreaker() {
	b, err := resilience.NewBreaker("inventory", resilience.BreakerConfig{
		ConsecutiveFailures: 2,
		OpenTimeout:         30 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	down := func(context.Context) error { return errors.New("connection refused") }
	for range 3 {
		err = b.Do(context.Background(), down)
		fmt.Println(b.State(), errors.Is(err, resilience.ErrOpen))
	}
	// Output:
	// closed false
	// open false
	// open true
}

func ExampleDo() {
	p, err := resilience.NewPolicy("pricing", resilience.PolicyConfig{
		Retry: resilience.RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	calls := 0
	price, err := resilience.Do(context.Background(), p, func(ctx context.Context) (int, error) {
		calls++
		if calls < 2 {
			return 0, errors.New("temporary glitch")
		}
		return 42, nil
	})
	fmt.Println(price, err, calls)
	// Output: 42 <nil> 2
}

func ExamplePermanent() {
	p, _ := resilience.NewPolicy("users", resilience.PolicyConfig{})
	errInvalid := errors.New("invalid user id")
	calls := 0
	_, err := resilience.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		calls++
		return "", resilience.Permanent(errInvalid)
	})
	fmt.Println(err == errInvalid, calls)
	// Output: true 1
}

func ExamplePolicy_RoundTripper() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "in stock")
	})}}
	srv.Start()
	defer srv.Close()

	p, _ := resilience.NewPolicy("inventory", resilience.PolicyConfig{})
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: p.RoundTripper(transport)}

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close() // releases the attempt's timeout
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 in stock
}

func ExamplePolicy_Endpoint() {
	p, _ := resilience.NewPolicy("greeter", resilience.PolicyConfig{})
	var greet endpoint.Endpoint = func(ctx context.Context, req any) (any, error) {
		return "hello, " + req.(string), nil
	}
	greet = p.Endpoint()(greet)
	resp, err := greet(context.Background(), "paved")
	fmt.Println(resp, err)
	// Output: hello, paved <nil>
}

func ExampleRetryAfter() {
	b, _ := resilience.NewBreaker("payments", resilience.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Minute})
	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("down") })
	err := b.Do(context.Background(), func(context.Context) error { return nil })
	if wait, ok := resilience.RetryAfter(err); ok {
		// A transport answers 503 with Retry-After rounded up to seconds.
		fmt.Println("retry after at most", wait.Round(time.Minute))
	}
	// Output: retry after at most 1m0s
}

func ExampleSet() {
	var deps resilience.Set
	_, _ = deps.NewPolicy("inventory", resilience.PolicyConfig{})
	_, _ = deps.NewPolicy("payments", resilience.PolicyConfig{Timeout: -1, AttemptTimeout: -1})
	for _, s := range deps.Status() {
		fmt.Printf("%s breaker=%v state=%s timeout=%v\n", s.Name, s.Breaker, s.State, s.Timeout)
	}
	fmt.Println(deps.Check(context.Background()))
	fmt.Println(strings.Join(deps.Missing("inventory", "payments", "search"), "; "))
	// Output:
	// inventory breaker=true state=closed timeout=10s
	// payments breaker=true state=closed timeout=0s
	// <nil>
	// payments: no timeout; search: no policy
}
