package natsjs_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChild(name))
	}
	goleak.VerifyTestMain(m)
}

// serverURL returns the URL of the shared test server (PAVED_TEST_NATS_URL, started by
// scripts/testenv.d/40-nats.sh), or of a server this test starts from
// PAVED_TEST_NATS_SERVER; it skips the test when neither is set (fails under CI).
func serverURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("PAVED_TEST_NATS_URL"); u != "" {
		return u
	}
	return startServer(t, testenv.FreePort(t), t.TempDir()).url
}

// natsServer is a nats-server process with JetStream on loopback.
type natsServer struct {
	url  string
	cmd  *exec.Cmd
	port int
	dir  string
}

// startServer runs the nats-server binary (PAVED_TEST_NATS_SERVER) with JetStream,
// its store in dir, on 127.0.0.1:port, and kills it when the test ends.
func startServer(t testing.TB, port int, dir string) *natsServer {
	t.Helper()
	bin := testenv.Require(t, "PAVED_TEST_NATS_SERVER", "nats-server")
	s := &natsServer{url: fmt.Sprintf("nats://127.0.0.1:%d", port), port: port, dir: dir}
	s.start(t, bin)
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *natsServer) start(t testing.TB, bin string) {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-sd", s.dir, "--http_port", "0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
			t.Fatalf("nats-server did not listen on %d: %v\n%s", s.port, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill kills the server with SIGKILL, as a crash would.
func (s *natsServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// streamName returns a stream name unique to the test, and its subject prefix.
func streamName(t testing.TB) (stream, prefix string) {
	name := strings.NewReplacer("/", "_", " ", "_", "=", "_").Replace(t.Name())
	return name, strings.ToLower(name)
}

// newStream declares a file-backed stream capturing subjects on the server at url and
// deletes it when the test ends.
func newStream(t testing.TB, url, name string, subjects ...string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, name)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: subjects, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, name)
	})
}

// consumerInfo returns the broker's view of a durable consumer.
func consumerInfo(t *testing.T, url, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// natsMsg is a message to subject with the id id.
func natsMsg(subject, id string) *nats.Msg {
	return &nats.Msg{Subject: subject, Data: make([]byte, 64), Header: nats.Header{natsjs.HeaderMsgID: []string{id}}}
}

func spanContext(ctx context.Context) trace.SpanContext { return trace.SpanContextFromContext(ctx) }
