package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeBase finds a port base with its 6 public (NATS's included) and 5 admin ports
// free on loopback,
// below the ephemeral port range.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		// Below the kernel's ephemeral range (32768 up by default), where another
		// process's outgoing connection or :0 listener could take a port between this
		// check and the quickstart's bind.
		base := 10000 + rand.IntN(21000)
		ok := true
		for _, off := range []int{0, 1, 2, 3, 4, 5, 1000, 1001, 1002, 1003, 1004} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port base")
	return 0
}

// TestQuickstart runs the quickstart as a user would: it gets ready, the catalog lists
// the four services with 100 % scores and the event flow orders.placed from orders to
// notifier (an asyncapi API, a dashed graph edge, Backstage's consumesApis), an order through orders succeeds and reaches
// notifier through the embedded NATS server (listed at notifier's /notifications and
// counted in its messaging metrics), and SIGINT stops everything with exit 0, no
// process left behind and the NATS port free again.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four programs")
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	base := freeBase(t)
	cmd := exec.Command(bin, "-port-base", strconv.Itoa(base))
	cmd.Dir = "."
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out strings.Builder
	var pids []int
	deadline := time.After(5 * time.Minute) // the first build of four programs is slow
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("quickstart ended before ready:\n%s", out.String())
			}
			out.WriteString(l + "\n")
			if rest, ok := strings.CutPrefix(l, "quickstart: pids "); ok {
				for _, kv := range strings.Fields(rest) {
					_, v, _ := strings.Cut(kv, "=")
					pid, _ := strconv.Atoi(v)
					pids = append(pids, pid)
				}
				break wait
			}
		case <-deadline:
			t.Fatalf("quickstart not ready:\n%s", out.String())
		}
	}
	if len(pids) != 5 {
		t.Fatalf("got pids %v, want 5", pids)
	}
	catalog := fmt.Sprintf("http://127.0.0.1:%d", base)
	for _, name := range []string{"hello", "inventory", "orders", "notifier"} {
		var sc struct{ Score int }
		getJSON(t, catalog+"/api/v1/components/"+name+"/scorecard", &sc)
		if sc.Score != 100 {
			t.Errorf("%s: score %d in the catalog, want 100", name, sc.Score)
		}
	}
	// The catalog knows the event flow: orders publishes the event API orders.placed,
	// notifier consumes it; the graph draws it dashed from orders to notifier, and the
	// Backstage export lists it on both sides.
	var ordersComp struct {
		APIs []struct{ Name, Kind string }
	}
	getJSON(t, catalog+"/api/v1/components/orders", &ordersComp)
	if !slices.ContainsFunc(ordersComp.APIs, func(a struct{ Name, Kind string }) bool { return a.Name == "orders.placed" && a.Kind == "asyncapi" }) {
		t.Errorf("catalog: orders' APIs %+v, want the asyncapi API orders.placed", ordersComp.APIs)
	}
	if svg := getText(t, catalog+"/graph.svg"); !strings.Contains(svg, `class="edge event" data-from="orders" data-to="notifier" data-apis="orders.placed"`) {
		t.Errorf("catalog /graph.svg: want a dashed event edge from orders to notifier for orders.placed in\n%s", svg)
	}
	if yaml := getText(t, catalog+"/api/v1/components/notifier/catalog-info.yaml"); !strings.Contains(yaml, "  consumesApis:\n    - \"orders.placed\"") {
		t.Errorf("catalog: notifier's Backstage entity lacks consumesApis orders.placed:\n%s", yaml)
	}
	if yaml := getText(t, catalog+"/api/v1/components/orders/catalog-info.yaml"); !strings.Contains(yaml, `- "orders.placed"`) {
		t.Errorf("catalog: orders' Backstage entity lacks providesApis orders.placed:\n%s", yaml)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/orders", base+3), "application/json", strings.NewReader(`{"sku":"sku-1","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"status":"confirmed"`) {
		t.Errorf("POST /orders: got %d %s, want 201 confirmed", resp.StatusCode, body)
	}
	var order struct{ ID string }
	_ = json.Unmarshal(body, &order)
	notified := false
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && !notified; time.Sleep(100 * time.Millisecond) {
		var list struct{ Notifications []struct{ OrderID string } }
		getJSON(t, fmt.Sprintf("http://127.0.0.1:%d/notifications", base+4), &list)
		for _, n := range list.Notifications {
			notified = notified || (n.OrderID == order.ID && order.ID != "")
		}
	}
	if !notified {
		t.Errorf("order %q not listed at notifier's /notifications within 15s", order.ID)
	}
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", base+1004))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !consumed(string(metrics)) {
		t.Errorf("notifier /metrics: want messaging_client_consumed_messages_total > 0 for orders.placed")
	}
	http.DefaultClient.CloseIdleConnections()

	_ = cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for l := range lines {
			out.WriteString(l + "\n")
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("quickstart exit: %v, want 0\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("quickstart did not stop within 60s of SIGINT")
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still running after the quickstart stopped", pid)
		}
	}
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+5)); err != nil {
		t.Errorf("NATS port still taken after the quickstart stopped: %v", err)
	} else {
		l.Close()
	}
}

// consumed reports whether metrics count a message of orders.placed consumed.
func consumed(metrics string) bool {
	for _, l := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(l, "messaging_client_consumed_messages_total{") || !strings.Contains(l, `messaging_destination_name="orders.placed"`) {
			continue
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && v > 0 {
			return true
		}
	}
	return false
}

// getText GETs url and returns its body, failing the test unless the answer is 200.
func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestQuickstartPortTaken: with one of its ports taken the quickstart says which one,
// and a -port-base whose ports are free, before it builds or starts anything, and exits 2.
func TestQuickstartPortTaken(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	base := freeBase(t)
	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+1002))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(bin, "-port-base", strconv.Itoa(base))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("got %v, want exit 2\n%s", err, out)
	}
	want := fmt.Sprintf("port 127.0.0.1:%d (inventory admin) already in use", base+1002)
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "-port-base ") || strings.Contains(string(out), "Building") {
		t.Errorf("got\n%s\nwant %q and a free -port-base, before building anything", out, want)
	}
}
