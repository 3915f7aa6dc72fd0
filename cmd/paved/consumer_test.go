package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/internal/testenv"
)

// natsProcess runs nats-server (PAVED_TEST_NATS_SERVER, built by tools/nats) with
// JetStream on a free loopback port until the test ends, and returns its URL.
func natsProcess(t *testing.T) string {
	t.Helper()
	bin := testenv.Require(t, "PAVED_TEST_NATS_SERVER", "nats-server")
	port := testenv.FreePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr
		}
		if time.Now().After(end) {
			t.Fatalf("nats-server did not listen on %s", addr)
		}
	}
}

// publisher is a program written into the new module: it declares the ORDERS stream
// and publishes one orders.placed event, as the events' publisher would, with the
// nats.go the module already requires.
const publisher = `package main

import (
	"context"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	nc, err := nats.Connect(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		panic(err)
	}
	if len(os.Args) > 2 {
		if _, err := js.Publish(ctx, "orders.placed", []byte(os.Args[2]), jetstream.WithMsgID("ord-7")); err != nil {
			panic(err)
		}
	}
}
`

// TestNewConsumerServiceBuildsTestsAndChecks: a service made by paved new --template
// consumer tidies, vets, builds, passes its own tests (a NATS server in their process),
// runs against a real nats-server, handles an event published to it, and passes paved
// check with a score of 100.
func TestNewConsumerServiceBuildsTestsAndChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a whole new module")
	}
	url := natsProcess(t)
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "shop-mailer")
	code, out, errOut := paved(t, "", "new", "example.com/acme/shop-mailer", "--template", "consumer", "--owner", "team-shop", "--dir", dir, "--paved-replace", root)
	if code != 0 {
		t.Fatalf("paved new: exit %d, want 0\n%s%s", code, out, errOut)
	}
	goIn(t, dir, "mod", "tidy")
	goIn(t, dir, "vet", "./...")
	goIn(t, dir, "build", "-o", filepath.Join(dir, "shop-mailer.bin"), ".")
	testOut := goIn(t, dir, "test", "-count=1", "-v", "./...")
	for _, name := range []string{"TestServiceConsumes", "TestServiceDeadLetters", "TestLogKeepsTheLast", "ExampleMakeEndpoints"} {
		if !strings.Contains(testOut, "--- PASS: "+name+" ") {
			t.Errorf("go test: got\n%s\nwant %s to pass", testOut, name)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "publisher"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "publisher", "main.go"), []byte(publisher), 0o644); err != nil {
		t.Fatal(err)
	}
	goIn(t, dir, "run", "./publisher", url) // the stream exists before the service starts
	admin, public := startService(t, filepath.Join(dir, "shop-mailer.bin"), "NATS_URL="+url)
	goIn(t, dir, "run", "./publisher", url, `{"orderId":"ord-7","sku":"sku-1","quantity":3}`)
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	var body []byte
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + public + "/notifications")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `"orderId":"ord-7"`) {
			break
		}
	}
	if !strings.Contains(string(body), `"orderId":"ord-7"`) || !strings.Contains(string(body), `"total":1`) {
		t.Errorf("GET /notifications: got %s, want ord-7 notified once", body)
	}
	code, out, errOut = paved(t, "", "check", "http://"+admin, "--min-score", "100")
	if code != 0 || !strings.Contains(out, "service shop-mailer") {
		t.Errorf("paved check --min-score 100 of the new service: got exit %d, want 0 for shop-mailer\n%s%s", code, out, errOut)
	}
}

// TestConsumerTemplateMatchesExample: the consumer template's service code is
// examples/notifier/notifier, file for file (its package named consumer), outside the
// identity and metadata (info.go) and the package comment (doc.go); a change to the
// example must reach the template.
func TestConsumerTemplateMatchesExample(t *testing.T) {
	drift{template: "consumer", module: "github.com/paved-road/paved/examples/notifier", owner: "team-customer",
		pkg: "consumer", example: "notifier/notifier",
		atLeast: 6, which: "config, endpoints, events, setup, store, transport"}.check(t)
}
