package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 20, "starts per binary")
	flag.Parse()
	dir, err := os.MkdirTemp("", "paved-startup")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	hello, base := filepath.Join(dir, "hello"), filepath.Join(dir, "baseline")
	build(hello, "./examples/hello")
	build(base, "./bench/startup/baseline")

	var th, tb []time.Duration
	for range *n { // interleaved, so both see the same machine
		th = append(th, startToReady(hello, "/readyz"))
		tb = append(tb, startToReady(base, "/"))
	}
	mh, mb := median(th), median(tb)
	fmt.Printf("start to first 200, median of %d starts\n", *n)
	fmt.Printf("  bare net/http baseline  %8s\n", mb.Round(10*time.Microsecond))
	fmt.Printf("  examples/hello /readyz  %8s  (%.2fx baseline)\n", mh.Round(10*time.Microsecond), float64(mh)/float64(mb))
}

func build(out, pkg string) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("go build %s: %w (run from the module root)", pkg, err))
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startToReady starts bin and returns the time until path on its admin port answers 200.
func startToReady(bin, path string) time.Duration {
	admin, pub := freePort(), freePort()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(admin), "HTTP_ADDR=127.0.0.1:"+strconv.Itoa(pub),
		"DRAIN_DELAY=0s", "LOG_LEVEL=error")
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://127.0.0.1:" + strconv.Itoa(admin) + path
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	for time.Since(start) < 10*time.Second {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start)
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	fail(fmt.Errorf("%s not ready after 10s", bin))
	return 0
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "startup:", err)
	os.Exit(1)
}
