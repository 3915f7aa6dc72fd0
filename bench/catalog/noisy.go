package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paved-road/paved/catalog"
)

// The noisy-client benchmark (-noisy): other clients at a steady rate, first alone (the
// baseline) and then beside one client that opens thousands of keep-alive connections
// and sends requests back to back; once with the catalog's default limits and once with
// them off. Every address is on loopback: the catalog listens on 127.0.0.1; the polite
// clients come from 127.0.0.11 and up, the noisy one from 127.0.0.2, so that the
// catalog sees them as different clients.

const (
	politeToken = "polite-team-token-0123456789"
	noisyToken  = "noisy-team-token-0123456789"
	noisyFrom   = "127.0.0.2"
	setupFrom   = "127.0.0.9"
)

type noisySettings struct {
	on, child     bool
	conns         int
	phase         time.Duration
	rate          int // polite requests a second, all clients together
	clients       int // polite clients, one address each
	api           string
	childDuration time.Duration
}

func noisyFlags() *noisySettings {
	n := &noisySettings{}
	flag.BoolVar(&n.on, "noisy", false, "run the noisy-client benchmark instead: polite clients' p99 and the catalog's RSS, alone and beside one client with -noisy-conns connections, with the default limits and without")
	flag.IntVar(&n.conns, "noisy-conns", 5000, "connections of the noisy client")
	flag.DurationVar(&n.phase, "phase", 20*time.Second, "length of each phase of -noisy (baseline, then with the noisy client)")
	flag.IntVar(&n.rate, "polite-rate", 100, "requests a second of the polite clients together")
	flag.IntVar(&n.clients, "polite-clients", 10, "polite clients, each from its own loopback address")
	// The noisy client runs as a child process of the tool (so that its goroutines do
	// not share a scheduler with the polite clients' measurements).
	flag.BoolVar(&n.child, "noisy-child", false, "internal: be the noisy client")
	flag.StringVar(&n.api, "noisy-api", "", "internal: the catalog's base URL, for -noisy-child")
	flag.DurationVar(&n.childDuration, "noisy-duration", 0, "internal: how long the noisy child runs")
	return n
}

// raiseNoFile lifts the soft limit of open files to the hard one, for thousands of
// connections (the shell's may be 1024).
func raiseNoFile() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// dialFrom returns a transport whose connections come from the loopback address from.
func dialFrom(from string, conns int) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return tr
}

// noisyResult is what the noisy child reports on its stdout.
type noisyResult struct {
	OK, Refused, Other, ConnErrors int64
	MaxOpen                        int64
}

// noisyChild is the noisy client: conns workers, each on its own keep-alive connection,
// sending reads back to back. A 429 is ignored (the next request goes at once); a
// failed connection is retried after a backoff from 100 ms doubling to 5 s, as a client
// library's retry would. It stops after -noisy-duration or at SIGTERM and prints its
// counts.
func noisyChild(n *noisySettings) int {
	if _, err := raiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "noisy: raising the open-file limit:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, n.childDuration)
	defer cancel()
	tr := dialFrom(noisyFrom, n.conns)
	var open, maxOpen atomic.Int64
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if v := open.Add(1); v > maxOpen.Load() {
			maxOpen.Store(v)
		}
		return &countedConn{Conn: c, open: &open}, nil
	}
	cl := &http.Client{Transport: tr}
	var ok, refused, other, connErrs atomic.Int64
	var wg sync.WaitGroup
	for range n.conns {
		wg.Go(func() {
			backoff := 100 * time.Millisecond
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", n.api+"/api/v1/components/svc-noisy/instances", nil)
				req.Header.Set("Authorization", "Bearer "+noisyToken)
				resp, err := cl.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					connErrs.Add(1)
					select {
					case <-ctx.Done():
						return
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, 5*time.Second)
					continue
				}
				backoff = 100 * time.Millisecond
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	tr.CloseIdleConnections()
	res := noisyResult{OK: ok.Load(), Refused: refused.Load(), Other: other.Load(), ConnErrors: connErrs.Load(), MaxOpen: maxOpen.Load()}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// phaseResult is one phase as the polite clients and the catalog saw it.
type phaseResult struct {
	p50, p99, max time.Duration
	requests      int
	failed        int // errors and answers other than 2xx
	rssMiB        float64
	hwmMiB        float64
	cpuShare      float64 // of one core
	dials         int64   // new connections of the polite clients
	kernel        kernelTCP
}

type noisyRun struct {
	name            string
	baseline, noisy phaseResult
	noisyClient     noisyResult
}

func runNoisy(bin string, n *noisySettings) error {
	if n.conns < 1 || n.phase <= 0 || n.rate < 1 || n.clients < 1 || n.clients > 200 {
		return errors.New("-noisy-conns, -phase and -polite-rate must be positive; -polite-clients from 1 to 200")
	}
	limit, err := raiseNoFile()
	if err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	if limit < uint64(n.conns)+1000 {
		return fmt.Errorf("the open-file hard limit is %d, too low for %d connections: raise it (ulimit -Hn) or lower -noisy-conns", limit, n.conns)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "catalognoisy")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "catalog")
		build := exec.Command("go", "build", "-o", bin, "./cmd/catalog")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building ./cmd/catalog (run from the module root): %w", err)
		}
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("team-polite:"+politeToken+"\nteam-noisy:"+noisyToken+"\n"), 0o600); err != nil {
		return err
	}
	configs := []struct {
		name string
		env  []string
	}{
		// The defaults of cmd/catalog: the bench's start turns the limits off, so
		// restore them here.
		{"limits on (defaults: 64 connections and 50/s per client, 200/s per token; over the cap held 30 s, 429 after 1 s)", []string{
			"CATALOG_MAX_CONNS_PER_CLIENT=64", "CATALOG_HOLD_OVER_CAP=30s", "CATALOG_REFUSAL_DELAY=1s", "CATALOG_RATE_PER_CLIENT=50", "CATALOG_BURST_PER_CLIENT=100",
			"CATALOG_RATE_PER_BEARER=200", "CATALOG_BURST_PER_BEARER=400"}},
		{"limits on as before the hold and the pacing (CATALOG_HOLD_OVER_CAP=0, CATALOG_REFUSAL_DELAY=0)", []string{
			"CATALOG_MAX_CONNS_PER_CLIENT=64", "CATALOG_HOLD_OVER_CAP=0s", "CATALOG_REFUSAL_DELAY=0s", "CATALOG_RATE_PER_CLIENT=50", "CATALOG_BURST_PER_CLIENT=100",
			"CATALOG_RATE_PER_BEARER=200", "CATALOG_BURST_PER_BEARER=400"}},
		{"limits off", []string{"CATALOG_MAX_CONNS_PER_CLIENT=0", "CATALOG_RATE_PER_CLIENT=0", "CATALOG_RATE_PER_BEARER=0"}},
	}
	var runs []noisyRun
	for i, c := range configs {
		env := append([]string{"CATALOG_TOKENS_FILE=" + tokens}, c.env...)
		r, err := noisyMeasure(bin, self, filepath.Join(dir, "data-"+strconv.Itoa(i)), env, n)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		r.name = c.name
		runs = append(runs, r)
		fmt.Fprintf(os.Stderr, "%s: done\n", c.name)
	}
	fmt.Printf("polite clients: %d at %d requests/s together (half heartbeats of their 100 instances, TTL 6 s, half reads); noisy client: %d connections from %s; phases of %v\n\n",
		n.clients, n.rate, n.conns, noisyFrom, n.phase)
	fmt.Println("| catalog | polite p50 / p99 / max, alone | polite p50 / p99 / max beside the noisy client | p99 ratio | polite failures (alone / noisy) | RSS alone | RSS noisy (peak) | RSS ratio | catalog CPU (alone / noisy) | polite new connections (alone / noisy) | noisy client: served / 429 / connection errors / most connections open | listen queue overflows / SYNs dropped / TIME_WAIT at the end (alone / noisy) |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range runs {
		fmt.Printf("| %s | %s / %s / %s | %s / %s / %s | %.2fx | %d of %d / %d of %d | %.1f MiB | %.1f MiB (%.1f) | %.2fx | %.0f%% / %.0f%% | %d / %d | %d / %d / %d / %d | %s / %s |\n",
			r.name, ms(r.baseline.p50), ms(r.baseline.p99), ms(r.baseline.max), ms(r.noisy.p50), ms(r.noisy.p99), ms(r.noisy.max),
			float64(r.noisy.p99)/float64(max(r.baseline.p99, 1)), r.baseline.failed, r.baseline.requests, r.noisy.failed, r.noisy.requests,
			r.baseline.rssMiB, r.noisy.rssMiB, r.noisy.hwmMiB, r.noisy.rssMiB/r.baseline.rssMiB,
			100*r.baseline.cpuShare, 100*r.noisy.cpuShare, r.baseline.dials, r.noisy.dials,
			r.noisyClient.OK, r.noisyClient.Refused, r.noisyClient.ConnErrors, r.noisyClient.MaxOpen, r.baseline.kernel, r.noisy.kernel)
	}
	return nil
}

// politeInstances is how many instances the polite clients heartbeat: client c owns
// instances c, c+clients, ...
const politeInstances = 100

func politeInstance(i int) catalog.Instance {
	in := instance("svc-polite", i, 6*time.Second, time.Now().UTC().Truncate(time.Second))
	in.Metadata = nil
	return in
}

// setupCall sends one setup request as the admin from setupFrom, waiting out 429s.
func setupCall(cl *http.Client, method, url string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	for range 50 {
		req, _ := http.NewRequest(method, url, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			time.Sleep(time.Second)
			continue
		}
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %s", method, url, resp.Status)
		}
		return nil
	}
	return fmt.Errorf("%s %s: refused 50 times", method, url)
}

func noisyMeasure(bin, self, dataDir string, env []string, n *noisySettings) (noisyRun, error) {
	p, err := start(bin, dataDir, "", env...)
	if err != nil {
		return noisyRun{}, err
	}
	defer p.stop()
	setup := &http.Client{Transport: dialFrom(setupFrom, 4)}
	polite := component("svc-polite")
	polite.Owner = "team-polite"
	noisy := component("svc-noisy")
	noisy.Owner = "team-noisy"
	if err := setupCall(setup, "PUT", p.api+"/api/v1/components/svc-polite", polite); err != nil {
		return noisyRun{}, err
	}
	if err := setupCall(setup, "PUT", p.api+"/api/v1/components/svc-noisy", noisy); err != nil {
		return noisyRun{}, err
	}
	for i := range 5 {
		in := instance("svc-noisy", i, 30*time.Second, time.Now().UTC().Truncate(time.Second))
		if err := setupCall(setup, "PUT", p.api+"/api/v1/components/svc-noisy/instances/"+in.ID, in); err != nil {
			return noisyRun{}, err
		}
	}
	for i := range politeInstances {
		in := politeInstance(i)
		if err := setupCall(setup, "PUT", p.api+"/api/v1/components/svc-polite/instances/"+in.ID, in); err != nil {
			return noisyRun{}, err
		}
	}

	// The polite clients run through both phases; each request is scheduled at a fixed
	// time (open loop) and its latency counted from then.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type sample struct {
		at      time.Time
		latency time.Duration
		ok      bool
	}
	var mu sync.Mutex
	var samples []sample // guarded by mu
	var wg sync.WaitGroup
	interval := time.Duration(n.clients) * time.Second / time.Duration(n.rate)
	begin := time.Now().Add(500 * time.Millisecond)
	var dials atomic.Int64 // the polite clients' new connections
	for c := range n.clients {
		tr := dialFrom(fmt.Sprintf("127.0.0.%d", 11+c), 16)
		dial := tr.DialContext
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dial(ctx, network, addr)
		}
		cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		wg.Go(func() {
			defer tr.CloseIdleConnections()
			var inflight sync.WaitGroup
			defer inflight.Wait()
			mine := []int{}
			for i := c; i < politeInstances; i += n.clients {
				mine = append(mine, i)
			}
			for k := 0; ; k++ {
				due := begin.Add(time.Duration(k)*interval + time.Duration(c)*interval/time.Duration(n.clients))
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(due)):
				}
				var req *http.Request
				if k%2 == 0 {
					req, _ = http.NewRequestWithContext(ctx, "GET", p.api+"/api/v1/components/svc-polite/instances", nil)
				} else {
					in := politeInstance(mine[(k/2)%len(mine)])
					b, _ := json.Marshal(in)
					req, _ = http.NewRequestWithContext(ctx, "PUT", p.api+"/api/v1/components/svc-polite/instances/"+in.ID, bytes.NewReader(b))
					req.Header.Set("If-Match", "*")
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+politeToken)
				inflight.Go(func() {
					resp, err := cl.Do(req)
					ok := err == nil && resp.StatusCode/100 == 2
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					lat := time.Since(due)
					if ctx.Err() != nil {
						return
					}
					mu.Lock()
					samples = append(samples, sample{at: due, latency: lat, ok: ok})
					mu.Unlock()
				})
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()

	// window measures the polite clients between from and to, and the catalog at to.
	window := func(from, to time.Time) (phaseResult, error) {
		cpu0, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			return phaseResult{}, err
		}
		dials0 := dials.Load()
		k0, err := readKernelTCP()
		if err != nil {
			return phaseResult{}, err
		}
		select {
		case <-time.After(time.Until(to)):
		case <-p.exited:
			return phaseResult{}, errors.New("the catalog exited")
		}
		cpu1, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			return phaseResult{}, err
		}
		var r phaseResult
		r.dials = dials.Load() - dials0
		k1, err := readKernelTCP()
		if err != nil {
			return phaseResult{}, err
		}
		r.kernel = k1.since(k0)
		if r.rssMiB, r.hwmMiB, err = memory(p.cmd.Process.Pid); err != nil {
			return phaseResult{}, err
		}
		r.cpuShare = float64(cpu1-cpu0) / float64(to.Sub(from))
		time.Sleep(time.Second) // the last requests of the window come back
		mu.Lock()
		var lat []time.Duration
		for _, s := range samples {
			if s.at.Before(from) || !s.at.Before(to) {
				continue
			}
			r.requests++
			if !s.ok {
				r.failed++
			}
			lat = append(lat, s.latency)
		}
		mu.Unlock()
		r.p50, r.p99 = percentile(lat, 0.5), percentile(lat, 0.99)
		if len(lat) > 0 {
			r.max = lat[len(lat)-1]
		}
		return r, nil
	}

	var run noisyRun
	// Warm-up of 2 s, then the baseline.
	from := begin.Add(2 * time.Second)
	time.Sleep(time.Until(from))
	if run.baseline, err = window(from, from.Add(n.phase)); err != nil {
		return run, err
	}

	// The noisy client, for the second phase (plus a 2 s ramp-up not measured).
	// It stands for a client on another machine: at nice 19 and on one P, its own CPU
	// does not take the two cores away from the catalog and the polite clients (which
	// would measure the kernel's scheduler, not the catalog). The same in both runs.
	child := exec.Command("nice", "-n", "19", self, "-noisy-child", "-noisy-api", p.api, "-noisy-conns", strconv.Itoa(n.conns),
		"-noisy-duration", (n.phase + 10*time.Second).String())
	child.Env = append(os.Environ(), "GOMAXPROCS=1")
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, os.Stderr
	if err := child.Start(); err != nil {
		return run, err
	}
	childDone := make(chan error, 1)
	go func() { childDone <- child.Wait() }()
	from = time.Now().Add(2 * time.Second)
	time.Sleep(time.Until(from))
	run.noisy, err = window(from, from.Add(n.phase))
	_ = child.Process.Signal(syscall.SIGTERM)
	select {
	case <-childDone:
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		<-childDone
	}
	if err != nil {
		return run, err
	}
	if err := json.Unmarshal(out.Bytes(), &run.noisyClient); err != nil {
		return run, fmt.Errorf("the noisy client's report %q: %w", out.String(), err)
	}
	return run, nil
}
