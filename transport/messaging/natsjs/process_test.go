package natsjs_test

// The SIGTERM test runs a real service process: the test binary re-executes itself as
// a small consuming service (runChild) built with service.Main, so the signal, the stop
// order (readiness fails, drain delay, stop hooks) and the exit code are the real ones.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

const childEnv = "PAVED_NATSJS_TEST_CHILD"

type childConfig struct {
	service.Config
	NATS   natsjs.Config
	Stream string `env:"CHILD_STREAM"`
	Out    string `env:"CHILD_OUT"`
}

// runChild is a consuming service: each message's id is appended to CHILD_OUT once
// handled (a few milliseconds of work), before the handler returns and it is
// acknowledged.
func runChild(string) int {
	service.Main(service.Info{Name: "worker", Version: "1.0.0"}, func(s *service.Service, cfg *childConfig) error {
		mq, err := natsjs.New(cfg.NATS, natsjs.WithName("worker"), natsjs.WithLogger(s.Logger()),
			natsjs.WithRegisterer(s.Registerer()), natsjs.WithTracerProvider(s.TracerProvider()),
			natsjs.WithPropagator(s.Propagator()), natsjs.WithHealth(s.Health()))
		if err != nil {
			return err
		}
		out, err := os.OpenFile(cfg.Out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		if _, err := mq.Consume(natsjs.ConsumerConfig{Stream: cfg.Stream, Durable: "worker"},
			func(ctx context.Context, m *natsjs.Message) error {
				time.Sleep(20 * time.Millisecond) // slower than the publisher: a backlog at the stop
				mu.Lock()
				defer mu.Unlock()
				_, err := fmt.Fprintln(out, m.ID)
				return err
			}); err != nil {
			return err
		}
		s.Append(service.Hook{Name: "nats", OnStart: mq.Start, OnStop: mq.Stop})
		s.OnStop("output", func(context.Context) error { return out.Close() })
		return nil
	})
	return 0
}

// SIGTERM while 1,000 messages a second arrive: the process exits 0 within the drain
// delay plus the shutdown timeout; every message the stream acknowledged is processed
// once, by the stopped process or by the consumer that takes over (counted at the
// consumer: none lost, none twice); nothing is left unacknowledged by the stopped one.
func TestSIGTERMUnderLoadLosesNothingAndProcessesNothingTwice(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	subject := prefix + ".placed"
	newStream(t, url, stream, prefix+".>")
	out := filepath.Join(t.TempDir(), "processed")

	const drain, shutdown = 100 * time.Millisecond, 5 * time.Second
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=worker", "NATS_URL="+url, "CHILD_STREAM="+stream, "CHILD_OUT="+out,
		"SERVICE_NAME=worker", "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "REGISTRY=none",
		"DRAIN_DELAY="+drain.String(), "SHUTDOWN_TIMEOUT="+shutdown.String(), "LOG_FORMAT=text",
		"NATS_CONSUMER_MAX_CONCURRENT=8", "NATS_CONSUMER_ACK_WAIT=1m")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	var logMu sync.Mutex
	ready := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "service ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	defer func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("child log:\n%s", log.String())
			logMu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-logDone
		_ = cmd.Wait()
		t.Fatal("the child service did not become ready")
	}

	// Publish 1,000 messages a second (10 every 10ms) from another client.
	pub := newClient(t, url)
	start(t, pub)
	var mu sync.Mutex
	acked := map[string]bool{}
	stopPub := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-stopPub:
				return
			case <-tick.C:
			}
			for range 10 {
				n++
				id := fmt.Sprintf("order-%d", n)
				msg := natsMsg(subject, id)
				if _, err := pub.PublishMsg(context.Background(), msg); err == nil {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}
	}()

	time.Sleep(1500 * time.Millisecond)
	term := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logDone
	err = cmd.Wait()
	took := time.Since(term)
	if err != nil {
		t.Errorf("child exit: %v, want exit code 0", err)
	}
	if limit := drain + shutdown; took > limit {
		t.Errorf("child stopped %v after SIGTERM, want within the drain plus the shutdown timeout (%v)", took, limit)
	}
	time.Sleep(500 * time.Millisecond) // the publisher keeps going after the stop
	close(stopPub)
	<-pubDone

	// Nothing the stopped process received is left unacknowledged: what it did not
	// handle it gave back (nak), so the consumer that takes over gets every message
	// within seconds, long before the broker would redeliver an unacknowledged one
	// (ACK_WAIT, one minute here). A nak'd message still counts in the broker's
	// NumAckPending until it is delivered again, so the test counts deliveries instead.
	// Count at the consumer: the stopped process, then a consumer that takes over.
	counts := map[string]int{}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	first := 0
	for _, id := range strings.Fields(string(b)) {
		counts[id]++
		first++
	}
	var cmu sync.Mutex
	next := newClient(t, url)
	if _, err := next.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "worker", ConsumerSettings: natsjs.ConsumerSettings{AckWait: time.Minute}},
		func(ctx context.Context, m *natsjs.Message) error {
			cmu.Lock()
			counts[m.ID]++
			cmu.Unlock()
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, next)
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	waitFor(t, 15*time.Second, "every acknowledged message processed, well within ACK_WAIT", func() bool {
		cmu.Lock()
		defer cmu.Unlock()
		n := 0
		for id := range acked {
			if counts[id] > 0 {
				n++
			}
		}
		return n == want
	})
	time.Sleep(200 * time.Millisecond) // a late duplicate would show here
	cmu.Lock()
	defer cmu.Unlock()
	twice := 0
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	if twice != 0 {
		t.Errorf("%d messages processed twice, want 0", twice)
	}
	if first == 0 || first == want {
		t.Errorf("the stopped process handled %d of %d messages: want some, not all (the stop must fall mid-stream)", first, want)
	}
	t.Logf("%d messages acknowledged by the stream; %d processed by the stopped process, the rest after; stop took %v", want, first, took)
}
