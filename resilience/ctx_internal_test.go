package resilience

import (
	"context"
	"errors"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

type ctxKey struct{}

func TestDeadlineCtx(t *testing.T) {
	t.Run("Done closes at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent := context.WithValue(t.Context(), ctxKey{}, "v")
			start := time.Now()
			c := newDeadlineCtx(parent, start.Add(time.Second))
			defer c.release()
			if dl, ok := c.Deadline(); !ok || !dl.Equal(start.Add(time.Second)) {
				t.Fatalf("Deadline got %v %v, want %v true", dl, ok, start.Add(time.Second))
			}
			if got := c.Value(ctxKey{}); got != "v" {
				t.Fatalf("Value got %v, want v", got)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("Err before the deadline got %v, want nil", err)
			}
			<-c.Done()
			if took := time.Since(start); took != time.Second {
				t.Fatalf("Done after %v, want 1s", took)
			}
			if err := c.Err(); err != context.DeadlineExceeded {
				t.Fatalf("Err got %v, want %v", err, context.DeadlineExceeded)
			}
			if cause := context.Cause(c); cause != context.DeadlineExceeded {
				t.Fatalf("Cause got %v, want %v", cause, context.DeadlineExceeded)
			}
		})
	})
	t.Run("Err finds a passed deadline without Done", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadlineCtx(t.Context(), time.Now().Add(time.Second))
			defer c.release()
			time.Sleep(time.Second)
			if err := c.Err(); err != context.DeadlineExceeded {
				t.Fatalf("Err got %v, want %v", err, context.DeadlineExceeded)
			}
			select {
			case <-c.Done():
			default:
				t.Fatal("Done not closed after Err reported the deadline")
			}
		})
	})
	t.Run("parent cancellation propagates with its cause", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			errWhy := errors.New("why")
			parent, cancel := context.WithCancelCause(t.Context())
			c := newDeadlineCtx(parent, time.Now().Add(time.Hour))
			defer c.release()
			done := c.Done()
			cancel(errWhy)
			<-done
			if err := c.Err(); err != context.Canceled {
				t.Fatalf("Err got %v, want %v", err, context.Canceled)
			}
			if cause := context.Cause(c); cause != errWhy {
				t.Fatalf("Cause got %v, want %v", cause, errWhy)
			}
		})
	})
	t.Run("children of it end with it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadlineCtx(t.Context(), time.Now().Add(time.Second))
			defer c.release()
			child, cancel := context.WithCancel(c)
			defer cancel()
			<-child.Done()
			if err := child.Err(); err != context.DeadlineExceeded {
				t.Fatalf("child Err got %v, want %v", err, context.DeadlineExceeded)
			}
			if cause := context.Cause(child); cause != context.DeadlineExceeded {
				t.Fatalf("child Cause got %v, want %v", cause, context.DeadlineExceeded)
			}
		})
	})
	t.Run("release cancels and is idempotent", func(t *testing.T) {
		c := newDeadlineCtx(context.Background(), time.Now().Add(time.Hour))
		done := c.Done()
		c.release()
		c.release()
		<-done
		if err := c.Err(); err != context.Canceled {
			t.Fatalf("Err got %v, want %v", err, context.Canceled)
		}
	})
	t.Run("concurrent Done, Err and release", func(t *testing.T) {
		for range 100 {
			c := newDeadlineCtx(context.Background(), time.Now().Add(time.Millisecond))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					<-c.Done()
					if c.Err() == nil {
						t.Error("Err nil after Done closed")
					}
				})
			}
			wg.Go(func() { _ = c.Err() })
			wg.Wait()
			c.release()
		}
	})
}

// goroutinesCreated reads the runtime's count of goroutines created since
// the program started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestDeadlineCtxChildrenStartNoGoroutine: context.WithCancel below the
// attempt context (net/http's Transport and grpc-go do it on every call)
// links through AfterFunc instead of starting a goroutine per child.
func TestDeadlineCtxChildrenStartNoGoroutine(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	const n = 1000
	before := goroutinesCreated()
	for range n {
		c := newDeadlineCtx(parent, time.Now().Add(time.Hour))
		child, cancel := context.WithCancelCause(c)
		cancel(nil)
		<-child.Done()
		c.release()
	}
	if got := goroutinesCreated() - before; got > n/100 {
		t.Fatalf("goroutines created for %d children got %d, want none", n, got)
	}
}

// TestDeadlineCtxAfterFunc: functions registered with context.AfterFunc run
// once the context ends, each in its own goroutine, unless stopped first.
func TestDeadlineCtxAfterFunc(t *testing.T) {
	t.Run("runs at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			c := newDeadlineCtx(t.Context(), start.Add(time.Second))
			defer c.release()
			ran := make(chan time.Duration, 1)
			context.AfterFunc(c, func() { ran <- time.Since(start) })
			if got := <-ran; got != time.Second {
				t.Fatalf("ran after %v, want 1s", got)
			}
			if err := c.Err(); err != context.DeadlineExceeded {
				t.Fatalf("Err got %v, want %v", err, context.DeadlineExceeded)
			}
		})
	})
	t.Run("stopped before the end never runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadlineCtx(t.Context(), time.Now().Add(time.Second))
			var ran atomic.Bool
			stop := context.AfterFunc(c, func() { ran.Store(true) })
			if !stop() {
				t.Fatal("first stop got false, want true")
			}
			if stop() {
				t.Fatal("second stop got true, want false")
			}
			c.release()
			time.Sleep(2 * time.Second)
			synctest.Wait()
			if ran.Load() {
				t.Fatal("stopped func ran")
			}
		})
	})
	t.Run("registered after the end runs at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadlineCtx(t.Context(), time.Now().Add(time.Hour))
			c.release()
			ran := make(chan struct{})
			stop := context.AfterFunc(c, func() { close(ran) })
			<-ran
			if stop() {
				t.Fatal("stop after run got true, want false")
			}
		})
	})
	t.Run("release and parent cancellation run it once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithCancel(t.Context())
			c := newDeadlineCtx(parent, time.Now().Add(time.Hour))
			var runs atomic.Int32
			context.AfterFunc(c, func() { runs.Add(1) })
			child, cancelChild := context.WithCancel(c)
			defer cancelChild()
			cancel()
			c.release()
			<-child.Done()
			synctest.Wait()
			if got := runs.Load(); got != 1 {
				t.Fatalf("runs got %d, want 1", got)
			}
			if err := child.Err(); err != context.Canceled {
				t.Fatalf("child Err got %v, want %v", err, context.Canceled)
			}
		})
	})
}
