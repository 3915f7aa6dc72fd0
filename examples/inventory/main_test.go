package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build builds this example as a user would, once per test run.
func build(t *testing.T) string { return testenv.Build(t, ".") }

// run starts bin with exactly env and returns its bound addresses; the process is
// killed when the test ends.
func run(t *testing.T, bin string, env ...string) (p *testenv.Process, httpAddr, adminAddr string) {
	t.Helper()
	p = testenv.Start(t, bin, env...)
	return p, p.HTTPAddr, p.AdminAddr
}

// stop sends SIGTERM and wants exit code 0.
func stop(t *testing.T, p *testenv.Process) { t.Helper(); p.Stop(t) }

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
