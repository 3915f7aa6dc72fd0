package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { _ = os.RemoveAll(binDir) }))
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	invPath   string
	buildErr  error
)

// build builds this example and inventory as a user would, once per test run.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "paved-orders-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "orders")
		invPath = filepath.Join(binDir, "inventory")
		for bin, dir := range map[string]string{binPath: ".", invPath: "../inventory"} {
			if out, err := exec.Command("go", "build", "-o", bin, dir).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", dir, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// run starts bin with env on top of the process environment and returns its bound
// addresses from the "service ready" log line; the process is killed when the test ends.
func run(t *testing.T, bin string, env ...string) (cmd *exec.Cmd, httpAddr, adminAddr string) {
	t.Helper()
	cmd = exec.Command(bin)
	cmd.Env = env // only what the test gives: hermetic
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "service ready" {
			httpAddr, _ = rec["http_addr"].(string)
			adminAddr, _ = rec["admin_addr"].(string)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if httpAddr == "" {
		t.Fatal("no \"service ready\" log line")
	}
	return cmd, httpAddr, adminAddr
}

// stop sends SIGTERM and wants exit code 0.
func stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: got %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("no exit within 20s of SIGTERM")
	}
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

// TestBuiltBinaries builds orders and inventory as users would, runs each as its own
// process on loopback, orders finding inventory through DISCOVERY_STATIC, places an
// order, and stops both with SIGTERM.
func TestBuiltBinaries(t *testing.T) {
	build(t)
	base := []string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s"}
	inv, invHTTP, _ := run(t, invPath, append(base, "INVENTORY_SEED=sku-1=5")...)
	ord, ordHTTP, ordAdmin := run(t, binPath, append(base, "DISCOVERY_STATIC=inventory="+invHTTP)...)

	resp, err := http.Post("http://"+ordHTTP+"/orders", "application/json", strings.NewReader(`{"sku":"sku-1","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ ID, Status string }
	_ = json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || o.Status != "confirmed" {
		t.Errorf("POST /orders: got %d %+v, want 201 confirmed", resp.StatusCode, o)
	}
	if code, body := get(t, "http://"+invHTTP+"/items/sku-1"); code != 200 || !strings.Contains(body, `"available":3`) {
		t.Errorf("inventory after the order: got %d %s, want 3 available", code, body)
	}
	if code, body := get(t, "http://"+ordAdmin+"/compliance?format=json"); code != 200 || !strings.Contains(body, `"score": 100`) {
		t.Errorf("orders compliance: got %d %.400s, want score 100", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, ord)
	stop(t, inv)
}

// TestDefaultDiscovery: with no registry and no DISCOVERY_STATIC, the main looks for
// inventory where `go run ./examples/inventory` listens.
func TestDefaultDiscovery(t *testing.T) {
	build(t)
	cmd, _, admin := run(t, binPath, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s")
	if code, body := get(t, "http://"+admin+"/config"); code != 200 || !strings.Contains(body, "inventory=127.0.0.1:8081") {
		t.Errorf("/config: got %d %.600s, want DISCOVERY_STATIC inventory=127.0.0.1:8081", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, cmd)
}
