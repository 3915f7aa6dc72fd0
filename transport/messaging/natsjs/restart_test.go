package natsjs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// nats-server killed (SIGKILL) and restarted mid-stream: the publisher's breaker opens
// while the broker is away and closes once it is back, the connection's readiness
// check fails and recovers, and every message the stream acknowledged, before or after
// the crash, is still there for the consumer.
func TestServerKilledAndRestartedMidStream(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, testenv.FreePort(t), dir)
	bin := testenv.Require(t, "PAVED_TEST_NATS_SERVER", "nats-server")
	stream, prefix := streamName(t)
	subject := prefix + ".placed"
	newStream(t, srv.url, stream, prefix+".>")

	hr, err := health.New(health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hr.Close() })
	hr.MarkStarted()
	cfg := natsjs.Config{URL: srv.url, Publish: resilience.PolicyConfig{
		Timeout: 300 * time.Millisecond, AttemptTimeout: 100 * time.Millisecond,
		Retry:   resilience.RetryConfig{MaxAttempts: 1},
		Breaker: resilience.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: 200 * time.Millisecond},
	}}
	c, err := natsjs.New(cfg, natsjs.WithHealth(hr))
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)

	var mu sync.Mutex
	acked := map[string]bool{}
	var opened, closedAgain bool
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("order-%d", n)
			_, err := c.PublishMsg(context.Background(), natsMsg(subject, id))
			mu.Lock()
			if err == nil {
				acked[id] = true
			}
			switch st := c.Policy().State(); {
			case st == resilience.StateOpen:
				opened = true
			case opened && st == resilience.StateClosed:
				closedAgain = true
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor(t, 5*time.Second, "publishing before the crash", func() bool { return count() >= 100 })

	srv.kill()
	waitFor(t, 10*time.Second, "breaker opens", func() bool { mu.Lock(); defer mu.Unlock(); return opened })
	waitFor(t, 5*time.Second, "readiness fails", func() bool {
		return check(t, hr, natsjs.CheckConnection).Status == health.StatusFail
	})
	before := count()

	srv.start(t, bin)
	waitFor(t, 20*time.Second, "breaker closes again", func() bool { mu.Lock(); defer mu.Unlock(); return closedAgain })
	waitFor(t, 10*time.Second, "readiness recovers", func() bool {
		return check(t, hr, natsjs.CheckConnection).Status == health.StatusPass
	})
	waitFor(t, 10*time.Second, "publishing after the restart", func() bool { return count() >= before+100 })
	close(stop)
	<-done

	seen := map[string]bool{}
	var smu sync.Mutex
	r := newClient(t, srv.url)
	if _, err := r.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "reader"},
		func(ctx context.Context, m *natsjs.Message) error {
			smu.Lock()
			seen[m.ID] = true
			smu.Unlock()
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	waitFor(t, 20*time.Second, "every acknowledged message read back", func() bool {
		smu.Lock()
		defer smu.Unlock()
		for id := range acked {
			if !seen[id] {
				return false
			}
		}
		return true
	})
	t.Logf("%d messages acknowledged (%d before the crash), all read back", want, before)
}
