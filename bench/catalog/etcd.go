package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// etcdProc is an etcd server the tool started: one member on loopback, its data in a
// directory of its own.
type etcdProc struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd runs etcd (from the PATH) with its data in dir and its log in dir/etcd.log,
// on free loopback ports, and waits (at most 20 s) until /health answers.
func startEtcd(dir string) (*etcdProc, error) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return nil, errors.New("-etcd start: no etcd on the PATH (Debian: apt-get install etcd-server)")
	}
	client, err := freePort()
	if err != nil {
		return nil, err
	}
	peer, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cu, pu := fmt.Sprintf("http://127.0.0.1:%d", client), fmt.Sprintf("http://127.0.0.1:%d", peer)
	cmd := exec.Command(bin, "--name", "bench", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", cu, "--advertise-client-urls", cu,
		"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu, "--initial-cluster", "bench="+pu)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &etcdProc{cmd: cmd, url: cu, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(cu + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("etcd exited at start; its log is %s", filepath.Join(dir, "etcd.log"))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, errors.New("etcd did not answer /health within 20 s")
		}
	}
}

// stop ends etcd with SIGTERM, then SIGKILL after 10 s.
func (e *etcdProc) stop() {
	_ = e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}
