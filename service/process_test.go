package service_test

// Tests on a real process: the test binary re-executes itself as a small service (see
// runChild), so signals, exit codes and sockets are the real ones.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paved-road/paved/service"
)

const childEnv = "PAVED_SERVICE_TEST_CHILD"

type childConfig struct {
	service.Config
	Secret string `env:"CHILD_SECRET" secret:"true"`
	Port   int    `env:"CHILD_PORT"`
}

// runChild is the service the process tests run: GET /slow?d=DURATION answers after d,
// GET /work answers at once.
func runChild(string) int {
	service.Main(service.Info{Name: "child", Version: "9.9.9"}, func(s *service.Service, cfg *childConfig) error {
		s.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			d, _ := time.ParseDuration(r.URL.Query().Get("d"))
			time.Sleep(d)
			fmt.Fprint(w, "done")
		})
		s.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
		return nil
	})
	return 0
}

type child struct {
	cmd         *exec.Cmd
	admin, http string
	mu          sync.Mutex
	out         bytes.Buffer
	exited      chan struct{}
	exitCode    int
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// startChild runs the child service with env and, when wantReady, waits for its
// "service ready" log line to learn its addresses.
func startChild(t *testing.T, env map[string]string, wantReady bool) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = []string{childEnv + "=1", "PATH=" + os.Getenv("PATH"),
		"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "LOG_FORMAT=json"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	c := &child{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
			var rec struct{ Msg, HTTPAddr, AdminAddr string }
			var raw map[string]any
			if json.Unmarshal([]byte(line), &raw) == nil && raw["msg"] == "service ready" {
				rec.HTTPAddr, _ = raw["http_addr"].(string)
				rec.AdminAddr, _ = raw["admin_addr"].(string)
				c.mu.Lock()
				c.http, c.admin = "http://"+rec.HTTPAddr, "http://"+rec.AdminAddr
				c.mu.Unlock()
				close(ready)
			}
		}
		_ = cmd.Wait()
		c.exitCode = cmd.ProcessState.ExitCode()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	if wantReady {
		select {
		case <-ready:
		case <-c.exited:
			t.Fatalf("child exited %d before ready:\n%s", c.exitCode, c.output())
		case <-time.After(20 * time.Second):
			t.Fatalf("child not ready after 20s:\n%s", c.output())
		}
	}
	return c
}

func (c *child) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
		return c.exitCode
	case <-time.After(within):
		t.Fatalf("child still running after %s:\n%s", within, c.output())
		return -1
	}
}

func status(client *http.Client, url string) int {
	resp, err := client.Get(url)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSIGTERMDuringSlowRequest(t *testing.T) {
	const drain, shutdown = 700 * time.Millisecond, 5 * time.Second
	c := startChild(t, map[string]string{"DRAIN_DELAY": drain.String(), "SHUTDOWN_TIMEOUT": shutdown.String()}, true)
	probe := &http.Client{Timeout: time.Second}

	slow := make(chan [2]any, 1)
	go func() {
		resp, err := http.Get(c.http + "/slow?d=1500ms")
		if err != nil {
			slow <- [2]any{0, err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- [2]any{resp.StatusCode, string(b)}
	}()
	time.Sleep(200 * time.Millisecond) // the slow request is in flight

	sent := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var notReady time.Duration
	for time.Since(sent) < 2*time.Second {
		if status(probe, c.admin+"/readyz") == 503 {
			notReady = time.Since(sent)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if notReady == 0 || notReady > 100*time.Millisecond {
		t.Errorf("readyz turned 503 after %s, want within 100ms", notReady)
	}
	if code := status(probe, c.admin+"/livez"); code != 200 {
		t.Errorf("livez during drain: got %d, want 200", code)
	}
	res := <-slow
	if res[0] != 200 || res[1] != "done" {
		t.Errorf("in-flight request: got %v %v, want 200 done", res[0], res[1])
	}
	if code := c.wait(t, drain+shutdown+2*time.Second); code != 0 {
		t.Errorf("exit code: got %d, want 0:\n%s", code, c.output())
	}
	if took := time.Since(sent); took > drain+shutdown {
		t.Errorf("stop took %s, want within drain+shutdown (%s)", took, drain+shutdown)
	}
}

func TestSecondSignalForcesExit(t *testing.T) {
	c := startChild(t, map[string]string{"DRAIN_DELAY": "30s"}, true)
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	probe := &http.Client{Timeout: time.Second}
	for status(probe, c.admin+"/readyz") != 503 {
		time.Sleep(5 * time.Millisecond)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t, 5*time.Second); code != service.ExitFailure {
		t.Errorf("exit code after a second signal: got %d, want %d", code, service.ExitFailure)
	}
	if !strings.Contains(c.output(), "second signal") {
		t.Errorf("no log of the forced exit:\n%s", c.output())
	}
}

// loadThroughStop sends requests on 64 keep-alive connections while a load balancer-like
// poller watches /readyz every 100ms; once it turns 503 no new request starts. It
// returns the number of requests sent and of failures.
func loadThroughStop(t *testing.T, drain time.Duration) (sent, failed int64, exit int) {
	c := startChild(t, map[string]string{"DRAIN_DELAY": drain.String(), "SHUTDOWN_TIMEOUT": "5s"}, true)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var inRotation atomic.Bool
	inRotation.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	go func() { // the load balancer's health check
		probe := &http.Client{Timeout: time.Second}
		for ctx.Err() == nil {
			if status(probe, c.admin+"/readyz") != 200 {
				inRotation.Store(false)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for inRotation.Load() && ctx.Err() == nil {
				atomic.AddInt64(&sent, 1)
				if status(client, c.http+"/work") != 200 {
					atomic.AddInt64(&failed, 1)
				}
			}
		}()
	}
	// Let the load build up before the stop.
	for deadline := time.Now().Add(10 * time.Second); atomic.LoadInt64(&sent) < 2000 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	wg.Wait()
	return sent, failed, c.wait(t, drain+10*time.Second)
}

func TestNoFailedRequestsThroughGracefulStop(t *testing.T) {
	sent, failed, code := loadThroughStop(t, time.Second)
	t.Logf("drain 1s: %d requests, %d failed", sent, failed)
	if sent < 1000 {
		t.Errorf("only %d requests sent: the load is too light to show anything", sent)
	}
	if failed != 0 {
		t.Errorf("got %d failed requests of %d, want 0", failed, sent)
	}
	if code != 0 {
		t.Errorf("exit code: got %d, want 0", code)
	}

	// Control: without a drain delay the same client must see failures, or this test
	// could not see them either.
	sent, failed, _ = loadThroughStop(t, 0)
	t.Logf("drain 0 (control): %d requests, %d failed", sent, failed)
	if failed == 0 {
		t.Errorf("control run with DRAIN_DELAY=0 saw no failures in %d requests: the test cannot see failures", sent)
	}
}

func TestConfigErrorsExit2WithoutSecrets(t *testing.T) {
	const canary = "canary-7f3e-secret"
	c := startChild(t, map[string]string{
		"CHILD_SECRET": canary, "CATALOG_TOKEN": canary, "CHILD_PORT": "eighty",
		"SHUTDOWN_TIMEOUT": "forever", "SERVICE_ENV": "prod", "LOG_LEVEL": "chatty",
	}, false)
	if code := c.wait(t, 10*time.Second); code != service.ExitConfig {
		t.Fatalf("exit code: got %d, want %d", code, service.ExitConfig)
	}
	out := c.output()
	if strings.Contains(out, canary) {
		t.Errorf("output shows the secret:\n%s", out)
	}
	for _, v := range []string{"CHILD_PORT", "SHUTDOWN_TIMEOUT", "SERVICE_ENV", "LOG_LEVEL"} {
		if !strings.Contains(out, v) {
			t.Errorf("output does not name %s:\n%s", v, out)
		}
	}
}

func TestSecretNeverLogged(t *testing.T) {
	const canary = "canary-91ab-secret"
	c := startChild(t, map[string]string{"CHILD_SECRET": canary, "CATALOG_TOKEN": canary, "DRAIN_DELAY": "0s"}, true)
	resp, err := http.Get(c.admin + "/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	c.wait(t, 10*time.Second)
	if strings.Contains(string(body), canary) || strings.Contains(c.output(), canary) {
		t.Errorf("secret shown in /config or logs:\n%s\n%s", body, c.output())
	}
	if !strings.Contains(string(body), `"CHILD_SECRET": "[REDACTED]"`) {
		t.Errorf("/config lacks the redacted team secret:\n%s", body)
	}
}

// TestPortInUseLogsOnce: a service whose port is taken exits 1 and says so in one log
// record that names the setting; nothing else repeats the error.
func TestPortInUseLogsOnce(t *testing.T) {
	for _, setting := range []string{"HTTP_ADDR", "ADMIN_ADDR"} {
		t.Run(setting, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			c := startChild(t, map[string]string{setting: l.Addr().String()}, false)
			if code := c.wait(t, 15*time.Second); code != service.ExitFailure {
				t.Fatalf("exit code: got %d, want %d\n%s", code, service.ExitFailure, c.output())
			}
			out := c.output()
			var records []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.Contains(line, "address already in use") {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Errorf("not a log record: %s", line)
				}
				records = append(records, rec)
			}
			if len(records) != 1 {
				t.Fatalf("records with the listen error: got %d, want 1:\n%s", len(records), out)
			}
			msg, _ := records[0]["error"].(string)
			if records[0]["level"] != "ERROR" || !strings.Contains(msg, "("+setting+"): listen tcp "+l.Addr().String()) {
				t.Errorf("record: got %v, want an ERROR naming %s and the address", records[0], setting)
			}
		})
	}
}

// hungCollector listens on loopback, accepts every connection and never answers: an
// OTLP/HTTP collector that hangs. It returns its address.
func hungCollector(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// TestHungCollectorDoesNotHoldStop: with the trace collector accepting and never
// answering, a SIGTERM still stops the service within its flush share (the exporter
// timeout, at most 5s), not SHUTDOWN_TIMEOUT, logs that spans were dropped, and exits
// 0: the service itself stopped cleanly.
func TestHungCollectorDoesNotHoldStop(t *testing.T) {
	const shutdown = 20 * time.Second
	c := startChild(t, map[string]string{
		"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": shutdown.String(),
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + hungCollector(t),
	}, true)
	for range 10 { // spans to flush
		if code := status(http.DefaultClient, c.http+"/work"); code != 200 {
			t.Fatalf("GET /work: %d", code)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	sent := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := c.wait(t, shutdown+10*time.Second)
	took := time.Since(sent)
	t.Logf("stop with a hung collector: %s, exit %d", took.Round(time.Millisecond), code)
	if code != service.ExitOK {
		t.Errorf("exit code: got %d, want 0\n%s", code, c.output())
	}
	if took > 8*time.Second { // 5s, and the race detector's 1s sleep at exit
		t.Errorf("stop took %s, want within the 5s flush share (SHUTDOWN_TIMEOUT is %s)", took, shutdown)
	}
	if !strings.Contains(c.output(), "spans dropped") {
		t.Errorf("no log of the dropped spans:\n%s", c.output())
	}
}

// TestForcedStopExitsZeroLoudly: SHUTDOWN_TIMEOUT running out with a request in flight
// is not an application error (exit 0, as for a pod killed at the end of its grace
// period), but the log says so at error level, naming the setting and what was cut.
func TestForcedStopExitsZeroLoudly(t *testing.T) {
	c := startChild(t, map[string]string{"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "500ms"}, true)
	cut := make(chan error, 1)
	go func() {
		resp, err := http.Get(c.http + "/slow?d=30s")
		if err == nil {
			resp.Body.Close()
		}
		cut <- err
	}()
	time.Sleep(200 * time.Millisecond) // the slow request is in flight
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t, 10*time.Second); code != service.ExitOK {
		t.Errorf("exit code: got %d, want 0\n%s", code, c.output())
	}
	if err := <-cut; err == nil {
		t.Error("the slow request got an answer, want it cut")
	}
	var found bool
	for _, line := range strings.Split(c.output(), "\n") {
		var rec struct{ Level, Msg, Error, Hint string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "service stopped" {
			continue
		}
		found = true
		if rec.Level != "ERROR" || !strings.Contains(rec.Error, "SHUTDOWN_TIMEOUT ran out (500ms): http server: closed 1 connections with requests in flight") || rec.Hint == "" {
			t.Errorf("last record: got %s, want an ERROR naming SHUTDOWN_TIMEOUT and the cut connection, with a hint", line)
		}
	}
	if !found {
		t.Errorf("no \"service stopped\" record:\n%s", c.output())
	}
}
