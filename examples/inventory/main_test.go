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
	buildErr  error
)

// build builds this example as a user would, once per test run.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "paved-inventory-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "inventory")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
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

// TestBuiltBinary builds the example's main, runs it on loopback, reads an item and
// the compliance report, and stops it with SIGTERM.
func TestBuiltBinary(t *testing.T) {
	bin := build(t)
	cmd, httpAddr, adminAddr := run(t, bin, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s", "INVENTORY_SEED=sku-7=3")
	resp, err := http.Get("http://" + httpAddr + "/items/sku-7")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(b)); resp.StatusCode != 200 || got != `{"sku":"sku-7","available":3}` {
		t.Errorf("GET /items/sku-7: got %d %s, want 200 {\"sku\":\"sku-7\",\"available\":3}", resp.StatusCode, got)
	}
	resp, err = http.Get("http://" + adminAddr + "/compliance?format=json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ Score int }
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if rep.Score != 100 {
		t.Errorf("compliance score: got %d, want 100", rep.Score)
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, cmd)
}

// TestBadConfigExitsWithCode2: an invalid INVENTORY_SEED stops the binary before it
// listens, with exit code 2 and a message naming the variable.
func TestBadConfigExitsWithCode2(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{}, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "INVENTORY_SEED=sku-1=-4")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "INVENTORY_SEED") {
		t.Errorf("got exit %d (%v) %s, want 2 naming INVENTORY_SEED", code, err, out)
	}
}
