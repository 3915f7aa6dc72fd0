package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// builds caches the binaries Build made, by package directory, for the test binary's
// life: every test of a package shares one build.
var builds sync.Map // absolute package dir -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Build builds the main package in dir (relative to the test's working directory, such
// as ".") with go build, once per test run, and returns the binary's path. The binary
// lives in a temporary directory of its own.
func Build(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := builds.LoadOrStore(abs, &build{})
	b := v.(*build)
	b.once.Do(func() {
		tmp, err := os.MkdirTemp("", "paved-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(tmp, filepath.Base(abs))
		cmd := exec.Command("go", "build", "-o", b.path, ".")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", dir, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Process is a Paved service program run by a test: its addresses come from its
// "service ready" log line.
type Process struct {
	Cmd *exec.Cmd
	// HTTPAddr and AdminAddr are the bound addresses, host:port.
	HTTPAddr, AdminAddr string

	mu       sync.Mutex
	out      bytes.Buffer
	exited   chan struct{}
	exitCode int
}

// Start runs bin with exactly env (plus PATH) and waits up to 30 s for its "service
// ready" line; the process is killed when the test ends. Give HTTP_ADDR and ADMIN_ADDR
// as 127.0.0.1:0 to get free ports.
func Start(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	p := StartNoWait(t, bin, env...)
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		ready := p.HTTPAddr != ""
		p.mu.Unlock()
		if ready {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited %d before it was ready:\n%s", filepath.Base(bin), p.exitCode, p.Output())
		case <-deadline:
			t.Fatalf("%s not ready within 30s:\n%s", filepath.Base(bin), p.Output())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// StartNoWait runs bin with env (plus PATH) and returns at once, for a program expected
// to fail.
func StartNoWait(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.out.Write(line)
			p.out.WriteByte('\n')
			if p.HTTPAddr == "" {
				var rec struct {
					Msg       string `json:"msg"`
					HTTPAddr  string `json:"http_addr"`
					AdminAddr string `json:"admin_addr"`
				}
				if json.Unmarshal(line, &rec) == nil && rec.Msg == "service ready" {
					p.HTTPAddr, p.AdminAddr = rec.HTTPAddr, rec.AdminAddr
				}
			}
			p.mu.Unlock()
		}
		_ = cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// Output returns what the process wrote so far (stdout and stderr).
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Wait waits up to within for the process to exit and returns its exit code, failing
// the test when it is still running.
func (p *Process) Wait(t testing.TB, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode
	case <-time.After(within):
		t.Fatalf("still running after %s:\n%s", within, p.Output())
		return -1
	}
}

// Stop sends SIGTERM and fails the test unless the process exits 0 within 20 s.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: got %d, want 0\n%s", code, lastLines(p.Output(), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
