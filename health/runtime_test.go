package health_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-road/paved/health"
)

// TestHangingDependency: a dependency that hangs for 30 s and ignores its context.
// /readyz answers in well under a second, reports the check failed after its timeout,
// and 1,000 probes do not add goroutines.
func TestHangingDependency(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	hang := func(ctx context.Context) error { // ignores ctx on purpose
		calls.Add(1)
		select {
		case <-time.After(30 * time.Second):
		case <-release:
		}
		return nil
	}
	reg, _ := health.New(health.Options{ShowDetails: true})
	must(t, reg.Register(health.Check{Name: "slow", Dependency: "legacy-api", Check: hang, Timeout: 200 * time.Millisecond, CacheTTL: 100 * time.Millisecond}))
	reg.MarkStarted()
	srv := httptest.NewServer(reg.Handler())
	defer func() {
		srv.Close()
		close(release)
		reg.Close()
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()

	probe := func() (int, string) {
		resp, err := client.Get(srv.URL + "/readyz?verbose")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	start := time.Now()
	code, body := probe()
	if d := time.Since(start); d >= time.Second {
		t.Errorf("first probe took %v, want under 1s", d)
	}
	if code != 503 || !strings.Contains(body, `[-]slow failed: health: check "slow" timed out after 200ms`) {
		t.Errorf("got %d\n%s\nwant 503 with the timeout", code, body)
	}
	runtime.GC()
	before := runtime.NumGoroutine()
	var slowest time.Duration
	for i := 0; i < 1000; i++ {
		s := time.Now()
		if code, _ := probe(); code != 503 {
			t.Fatalf("probe %d: got %d, want 503", i, code)
		}
		slowest = max(slowest, time.Since(s))
	}
	after := runtime.NumGoroutine()
	if after > before+2 {
		t.Errorf("goroutines: got %d after 1000 probes, want about %d", after, before)
	}
	if slowest >= time.Second {
		t.Errorf("slowest probe: got %v, want under 1s", slowest)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("dependency calls while hanging: got %d, want 1 (single-flight)", n)
	}
}

// TestProbeStorm: 5,000 probes in a burst against 3 checks cached for 1 s; each
// dependency, a real HTTP server on loopback, counts its calls.
func TestProbeStorm(t *testing.T) {
	var hits [3]atomic.Int64
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Path, "/dep%d", &i)
		hits[i].Add(1)
		time.Sleep(5 * time.Millisecond)
	}))
	defer dep.Close()
	depClient := &http.Client{}
	defer depClient.CloseIdleConnections()

	reg, _ := health.New(health.Options{})
	defer reg.Close()
	for i := range hits {
		url := fmt.Sprintf("%s/dep%d", dep.URL, i)
		must(t, reg.Register(health.Check{
			Name: fmt.Sprintf("dep%d", i), Dependency: "dep", CacheTTL: time.Second,
			Check: func(ctx context.Context) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := depClient.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				return nil
			},
		}))
	}
	reg.MarkStarted()
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()

	const probes, workers = 5000, 64
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= probes {
				resp, err := client.Get(srv.URL + "/readyz")
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n != 0 {
		t.Errorf("failed probes: got %d, want 0", n)
	}
	// One call per started cache period, plus the first.
	limit := int64(elapsed/time.Second) + 1
	for i := range hits {
		if n := hits[i].Load(); n < 1 || n > limit {
			t.Errorf("dep%d calls over %v: got %d, want 1..%d", i, elapsed, n, limit)
		}
	}
	t.Logf("%d probes in %v; dependency calls %d %d %d", probes, elapsed, hits[0].Load(), hits[1].Load(), hits[2].Load())
}

func TestPanickingCheck(t *testing.T) {
	reg, _ := health.New(health.Options{ShowDetails: true})
	defer reg.Close()
	must(t, reg.Register(health.Check{Name: "boom", Check: func(context.Context) error { panic("nil map write in checker") }}))
	reg.MarkStarted()
	rep, err := reg.Evaluate(context.Background(), health.Readiness)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Checks[len(rep.Checks)-1]
	if rep.Status != health.StatusFail || c.Status != health.StatusFail || c.Err == nil ||
		c.Err.Error() != `health: check "boom" panicked: nil map write in checker` {
		t.Errorf("got %s %s %v, want fail with the panic's message", rep.Status, c.Status, c.Err)
	}
}

// TestConcurrentUse registers, probes, watches and flips gates from many goroutines at
// once; run under -race it proves the registry safe for concurrent use.
func TestConcurrentUse(t *testing.T) {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- reg.Run(ctx) }()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 25 {
				err := reg.Register(health.Check{Name: fmt.Sprintf("c%d-%d", i, j), Period: time.Duration(j%2) * time.Millisecond * 50,
					CacheTTL: time.Millisecond, Check: func(context.Context) error { return nil }})
				if err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				resp, err := client.Get(srv.URL + "/healthz?verbose")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		wg.Go(func() {
			wctx, wcancel := context.WithCancel(ctx)
			ch := reg.Watch(wctx, health.Readiness)
			for range 20 {
				reg.MarkStarted()
				reg.Shutdown()
				reg.Resume()
				reg.Status(health.AllKinds)
			}
			wcancel()
			for range ch {
			}
		})
	}
	wg.Wait()
	if n := len(reg.Checks()); n != 100 {
		t.Errorf("got %d checks, want 100", n)
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
}
