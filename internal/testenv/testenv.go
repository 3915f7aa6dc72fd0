package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RequireServersVar is the variable CI sets to 1 so that a missing program fails a test
// instead of skipping it.
const RequireServersVar = "PAVED_TEST_REQUIRE_SERVERS"

// Require returns the value of the environment variable name (a server address or a
// program path). When it is unset and program is not empty, program is looked up in PATH
// if CI requires servers. Otherwise the test is skipped, or failed under CI.
func Require(t testing.TB, name, program string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	required := os.Getenv(RequireServersVar) == "1"
	if program != "" && required {
		if p, err := exec.LookPath(program); err == nil {
			return p
		}
	}
	if required {
		t.Fatalf("%s is not set and %s=1: scripts/testenv.sh should provide it", name, RequireServersVar)
	}
	t.Skipf("%s is not set: run the tests with scripts/test.sh to provide it", name)
	return ""
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Prometheus is a Prometheus server started by [StartPrometheus].
type Prometheus struct {
	// API is the base URL of its HTTP API, ending in /api/v1/.
	API    string
	client *http.Client
}

// StartPrometheus runs the Prometheus named by PAVED_TEST_PROMETHEUS (or found in PATH
// under CI) on a free loopback port with config (prometheus.yml text) and a temporary
// data directory, and stops it when the test ends, logging its output if the test failed.
func StartPrometheus(t testing.TB, config string) *Prometheus {
	t.Helper()
	bin := Require(t, "PAVED_TEST_PROMETHEUS", "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	var log bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--enable-feature=exemplar-storage",
	)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{
		API:    fmt.Sprintf("http://127.0.0.1:%d/api/v1/", port),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return p
}

// Query runs an instant query and returns its result series.
func (p *Prometheus) Query(q string) ([]json.RawMessage, error) {
	resp, err := p.client.Get(p.API + "query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %s: status %d: %s", q, resp.StatusCode, body)
	}
	var out struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	return out.Data.Result, nil
}

// WaitFor polls q until it returns at least one series or within passes, and fails the
// test then. Debian's Prometheus 2.42 adds discovered targets every 5 s: allow 20 s.
func (p *Prometheus) WaitFor(t testing.TB, q string, within time.Duration) []json.RawMessage {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := p.Query(q)
		if err == nil && len(res) > 0 {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: no result within %s (last error %v)", q, within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Exemplars returns the body of Prometheus's query_exemplars answer for q over the last
// hour.
func (p *Prometheus) Exemplars(q string) (string, error) {
	now := time.Now()
	resp, err := p.client.Get(p.API + "query_exemplars?query=" + url.QueryEscape(q) +
		fmt.Sprintf("&start=%d&end=%d", now.Add(-time.Hour).Unix(), now.Add(time.Minute).Unix()))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("query_exemplars %s: status %d", q, resp.StatusCode)
	}
	return string(body), err
}
