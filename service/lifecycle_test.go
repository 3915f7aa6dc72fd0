package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/service/profiler"
)

// newTestService builds a service on loopback with free ports and quick timeouts.
func newTestService(t *testing.T, env map[string]string) *service.Service {
	t.Helper()
	base := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"SHUTDOWN_TIMEOUT": "5s", "START_TIMEOUT": "2s", "LOG_LEVEL": "debug",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := service.Load[service.Config](service.WithEnviron(base))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "lifecycle-test", Version: "1.2.3"}, &cfg, service.WithLogOutput(io.Discard),
		service.WithProfiler(profiler.Register))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHooksOrderAndProbesDuringStart(t *testing.T) {
	s := newTestService(t, nil)
	var mu sync.Mutex
	var events []string
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	probeDuringStart := make(chan [2]int, 1)
	s.Append(service.Hook{Name: "a",
		OnStart: func(ctx context.Context) error {
			record("start a")
			// The admin server answers while start hooks run: live, not ready, not started.
			addr := s.AdminAddr().String()
			r, _ := get(t, "http://"+addr+"/readyz")
			st, _ := get(t, "http://"+addr+"/startupz")
			l, _ := get(t, "http://"+addr+"/livez")
			if l != 200 {
				t.Errorf("livez during start: got %d, want 200", l)
			}
			probeDuringStart <- [2]int{r, st}
			return nil
		},
		OnStop: func(ctx context.Context) error { record("stop a"); return errors.New("a failed to stop") },
	})
	s.OnStop("b", func(ctx context.Context) error { record("stop b"); return nil })
	s.Append(service.Hook{Name: "c",
		OnStart: func(ctx context.Context) error { record("start c"); return nil },
		OnStop:  func(ctx context.Context) error { record("stop c"); return nil },
	})
	s.Go("member", func(ctx context.Context) error { <-ctx.Done(); record("member done"); return nil })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	if got := <-probeDuringStart; got != [2]int{503, 503} {
		t.Errorf("readyz and startupz during start hooks: got %v, want [503 503]", got)
	}
	if code, _ := get(t, "http://"+s.AdminAddr().String()+"/readyz"); code != 200 {
		t.Errorf("readyz once ready: got %d, want 200", code)
	}
	cancel()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "a failed to stop") {
		t.Errorf("Run: got %v, want the stop hook's error", err)
	}
	want := "start a,start c,member done,stop c,stop b,stop a"
	if got := strings.Join(events, ","); got != want {
		t.Errorf("events: got %s, want %s", got, want)
	}
}

func TestStartHookFailureStopsOnlyStarted(t *testing.T) {
	s := newTestService(t, nil)
	var events []string
	s.Append(service.Hook{Name: "db", OnStart: func(context.Context) error { events = append(events, "start db"); return nil },
		OnStop: func(context.Context) error { events = append(events, "stop db"); return nil }})
	s.Append(service.Hook{Name: "cache", OnStart: func(context.Context) error { return errors.New("no cache") },
		OnStop: func(context.Context) error { events = append(events, "stop cache"); return nil }})
	s.Append(service.Hook{Name: "late", OnStop: func(context.Context) error { events = append(events, "stop late"); return nil }})
	err := s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `start hook "cache": no cache`) {
		t.Fatalf("Run: got %v, want the start hook's error", err)
	}
	if got, want := strings.Join(events, ","), "start db,stop db"; got != want {
		t.Errorf("events: got %s, want %s", got, want)
	}
}

func TestStartTimeout(t *testing.T) {
	s := newTestService(t, map[string]string{"START_TIMEOUT": "100ms"})
	s.OnStart("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	err := s.Run(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "START_TIMEOUT") {
		t.Fatalf("Run: got %v, want a deadline error naming START_TIMEOUT", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %s with a 100ms start timeout", d)
	}
}

func TestMemberFailureStopsService(t *testing.T) {
	s := newTestService(t, nil)
	boom := errors.New("boom")
	s.Go("worker", func(ctx context.Context) error { return boom })
	stopped := false
	s.OnStop("flag", func(context.Context) error { stopped = true; return nil })
	err := s.Run(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Run: got %v, want %v", err, boom)
	}
	if !stopped {
		t.Error("stop hook did not run after a member failed")
	}
}

// TestPprofNotLinked: PPROF_ENABLED=true in a program that did not link the profiler is
// a configuration error naming the setting and the line to add, not a setting ignored.
func TestPprofNotLinked(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "PPROF_ENABLED": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(service.Info{Name: "lifecycle-test"}, &cfg, service.WithLogOutput(io.Discard))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != "PPROF_ENABLED" ||
		!strings.Contains(ce.Problems[0].Msg, "service.WithProfiler(profiler.Register)") {
		t.Fatalf("New with PPROF_ENABLED=true and no profiler: got %v, want a ConfigError on PPROF_ENABLED naming service.WithProfiler", err)
	}
}

func TestAdminEndpoints(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		t.Run(fmt.Sprintf("pprof=%v", pprof), func(t *testing.T) {
			s := newTestService(t, map[string]string{"PPROF_ENABLED": fmt.Sprint(pprof), "CATALOG_TOKEN": "tok-canary"})
			s.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hi") })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			<-s.Ready()
			admin, public := "http://"+s.AdminAddr().String(), "http://"+s.HTTPAddr().String()

			if code, body := get(t, public+"/hello"); code != 200 || body != "hi" {
				t.Errorf("public /hello: got %d %q", code, body)
			}
			if code, body := get(t, admin+"/metrics"); code != 200 || !strings.Contains(body, `build_info{goversion=`) ||
				!strings.Contains(body, `service_version="1.2.3"`) || !strings.Contains(body, "go_goroutines") {
				t.Errorf("/metrics: got %d, missing build_info or Go metrics:\n%.500s", code, body)
			}
			if code, body := get(t, admin+"/info"); code != 200 || !strings.Contains(body, `"version": "1.2.3"`) ||
				!strings.Contains(body, `"goVersion": "go1.`) {
				t.Errorf("/info: got %d %s", code, body)
			}
			if _, body := get(t, admin+"/config"); strings.Contains(body, "tok-canary") || !strings.Contains(body, `"CATALOG_TOKEN": "[REDACTED]"`) {
				t.Errorf("/config does not redact CATALOG_TOKEN: %s", body)
			}
			want := 404
			if pprof {
				want = 200
			}
			if code, _ := get(t, admin+"/debug/pprof/"); code != want {
				t.Errorf("admin /debug/pprof/: got %d, want %d", code, want)
			}
			if code, _ := get(t, public+"/debug/pprof/"); code != 404 {
				t.Errorf("public /debug/pprof/: got %d, want 404", code)
			}
			for _, p := range []string{"/metrics", "/readyz", "/info", "/config"} {
				if code, _ := get(t, public+p); code != 404 {
					t.Errorf("public %s: got %d, want 404 (admin endpoints stay off the public port)", p, code)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	s := newTestService(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Run(ctx)
	if err := s.Run(ctx); !errors.Is(err, service.ErrAlreadyRun) {
		t.Errorf("second Run: got %v, want ErrAlreadyRun", err)
	}
}

// TestForcedCloseAtShutdownTimeout: a request still running when SHUTDOWN_TIMEOUT
// runs out is cut: its connection is closed, and Run's error says so, wrapping
// ErrShutdownTimeout.
func TestForcedCloseAtShutdownTimeout(t *testing.T) {
	s := newTestService(t, map[string]string{"SHUTDOWN_TIMEOUT": "200ms"})
	release := make(chan struct{})
	defer close(release)
	inFlight := make(chan struct{})
	s.HandleFunc("GET /stuck", func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release // ignores its context, as a handler stuck in a call without one does
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	cut := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.HTTPAddr().String() + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		cut <- err
	}()
	<-inFlight
	cancel()
	err := <-done
	if !errors.Is(err, service.ErrShutdownTimeout) || !strings.Contains(err.Error(), "http server: closed 1 connections with requests in flight") {
		t.Errorf("Run: got %v, want ErrShutdownTimeout naming the cut connection", err)
	}
	select {
	case err := <-cut:
		if err == nil {
			t.Error("the stuck request got an answer, want its connection closed")
		}
	case <-time.After(5 * time.Second):
		t.Error("the stuck request's connection still open 5s after Run returned")
	}
}
