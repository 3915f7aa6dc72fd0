package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
)

const adminToken = "bench-admin-token-0123456789"

type settings struct {
	ttl, duration  time.Duration
	workers        int
	watchers       int
	changeInterval time.Duration
	etcd           string // etcd client URLs: CATALOG_STORE=etcd; empty: bbolt
}

type result struct {
	n                           int
	heartbeats                  int
	hbP50, hbP99, hbMax         time.Duration
	late, failed, reregs        int
	deliveries                  int
	watchP50, watchP99          time.Duration
	cpuShare                    float64 // of one core
	serverUnder5, serverUnder10 float64 // share of heartbeats the catalog's own histogram puts under 5 and 10 ms
	rssMiB, hwmMiB              float64
	registerTime                time.Duration
	heartbeatsPerSecond         float64
	cpuMicrosPerHeartbeat       float64
}

func main() {
	counts := flag.String("n", "1000,10000", "comma-separated instance counts, one catalog process each")
	ttl := flag.Duration("ttl", 30*time.Second, "instance TTL; heartbeats every TTL/3")
	duration := flag.Duration("duration", 30*time.Second, "measured window after a warm-up of one heartbeat interval")
	workers := flag.Int("workers", 64, "concurrent heartbeat senders (connections)")
	watchers := flag.Int("watchers", 50, "long-polling watchers of the watched component")
	change := flag.Duration("change-every", 500*time.Millisecond, "how often the watched component changes")
	bin := flag.String("catalog", "", "catalog binary; empty builds ./cmd/catalog")
	etcd := flag.String("etcd", "", "etcd client URLs: run the catalog on CATALOG_STORE=etcd instead of bbolt (use an empty etcd and one -n per run: the store's data stays in etcd)")
	nf := noisyFlags()
	cf := churnFlags()
	flag.Parse()
	if nf.child {
		os.Exit(noisyChild(nf))
	}
	if nf.on {
		if err := runNoisy(*bin, nf); err != nil {
			fmt.Fprintln(os.Stderr, "bench/catalog:", err)
			os.Exit(1)
		}
		return
	}
	s := settings{ttl: *ttl, duration: *duration, workers: *workers, watchers: *watchers, changeInterval: *change, etcd: *etcd}
	if cf.rate != 0 {
		if err := runChurn(*counts, *bin, s, cf); err != nil {
			fmt.Fprintln(os.Stderr, "bench/catalog:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*counts, *bin, s); err != nil {
		fmt.Fprintln(os.Stderr, "bench/catalog:", err)
		os.Exit(1)
	}
}

func run(counts, bin string, s settings) error {
	if s.ttl < 3*time.Second || s.duration <= 0 || s.workers < 1 || s.watchers < 1 || s.changeInterval <= 0 {
		return errors.New("-ttl must be at least 3s; -duration, -workers, -watchers and -change-every positive")
	}
	var ns []int
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 || n > 100000 {
			return fmt.Errorf("-n: want instance counts from 10 to 100000, got %q", f)
		}
		ns = append(ns, n)
	}
	dir, err := os.MkdirTemp("", "catalogbench")
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
	var results []result
	for _, n := range ns {
		r, err := measure(bin, filepath.Join(dir, "data-"+strconv.Itoa(n)), n, s)
		if err != nil {
			return fmt.Errorf("n=%d: %w", n, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "n=%d done\n", n)
	}
	fmt.Printf("ttl %v (heartbeat every %v), window %v, %d workers, %d watchers, change every %v\n\n",
		s.ttl, s.ttl/3, s.duration, s.workers, s.watchers, s.changeInterval)
	fmt.Println("| instances | heartbeats/s | heartbeat p50 | p99 | max | server-side ≤5 ms / ≤10 ms | late/failed/re-registered | watch p50 | watch p99 (deliveries) | catalog CPU (one core) | CPU µs/heartbeat | RSS | peak RSS | register all |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Printf("| %d | %.0f | %s | %s | %s | %.2f%% / %.2f%% | %d/%d/%d | %s | %s (%d) | %.1f%% | %.0f | %.1f MiB | %.1f MiB | %s |\n",
			r.n, r.heartbeatsPerSecond, ms(r.hbP50), ms(r.hbP99), ms(r.hbMax), 100*r.serverUnder5, 100*r.serverUnder10, r.late, r.failed, r.reregs,
			ms(r.watchP50), ms(r.watchP99), r.deliveries, 100*r.cpuShare, r.cpuMicrosPerHeartbeat, r.rssMiB, r.hwmMiB, r.registerTime.Round(time.Millisecond))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// proc is the catalog process under test.
type proc struct {
	cmd    *exec.Cmd
	api    string
	admin  string
	exited chan struct{}
}

// start runs the catalog on loopback (on bbolt in dataDir, or on etcd when etcd is set)
// and waits (at most 30 s) for its ready line. The per-client limits are off (this load
// comes from one address by design) unless extra, added last, sets them.
func start(bin, dataDir, etcd string, extra ...string) (*proc, error) {
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s",
		"CATALOG_STORE=bbolt", "CATALOG_DATA_DIR=" + dataDir, "CATALOG_ADMIN_TOKEN=" + adminToken, "REGISTRY=none",
		"CATALOG_MAX_CONNS_PER_CLIENT=0", "CATALOG_RATE_PER_CLIENT=0", "CATALOG_RATE_PER_BEARER=0"}
	if etcd != "" {
		cmd.Env = append(cmd.Env, "CATALOG_STORE=etcd", "ETCD_ENDPOINTS="+etcd)
	}
	cmd.Env = append(cmd.Env, extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var rec struct {
				Msg   string `json:"msg"`
				Addr  string `json:"http_addr"`
				Admin string `json:"admin_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "service ready" {
				p.admin = "http://" + rec.Admin
				ready <- rec.Addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // the access log, drained
		_ = cmd.Wait()
	}()
	select {
	case addr := <-ready:
		p.api = "http://" + addr
		return p, nil
	case <-p.exited:
		return nil, errors.New("the catalog exited before it was ready")
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("the catalog was not ready within 30 s")
	}
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// cpuTime returns the process's utime+stime from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}

// memory returns VmRSS and VmHWM of the process in MiB.
func memory(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func newClient(base string, conns int) (*client.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return client.New(base, client.WithToken(adminToken), client.WithHTTPClient(&http.Client{Transport: tr}))
}

func instance(comp string, i int, ttl time.Duration, started time.Time) catalog.Instance {
	return catalog.Instance{
		ID: fmt.Sprintf("i-%d", i), Component: comp, Version: "1.0.0",
		Addresses: catalog.Addresses{HTTP: fmt.Sprintf("127.0.0.1:%d", 20000+i%40000), Admin: fmt.Sprintf("127.0.0.1:%d", 20000+i%40000)},
		StartedAt: started, TTLSeconds: int(ttl / time.Second), Status: catalog.StatusPassing,
		Metadata: map[string]string{"environment": "production"},
	}
}

func component(name string) catalog.Component {
	return catalog.Component{Name: name, Owner: "team-bench", Type: catalog.TypeService, Tier: 2, Lifecycle: catalog.LifecycleProduction}
}

func measure(bin, dataDir string, n int, s settings) (result, error) {
	p, err := start(bin, dataDir, s.etcd)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	c, err := newClient(p.api, s.workers)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Components and instances: n instances over n/10 components, registered by the
	// workers in parallel.
	comps := max(1, n/10)
	started := time.Now().UTC().Truncate(time.Second)
	insts := make([]catalog.Instance, n)
	for i := range n {
		insts[i] = instance(fmt.Sprintf("svc-%d", i%comps), i, s.ttl, started)
	}
	t0 := time.Now()
	if err := parallel(s.workers, comps, func(i int) error {
		_, err := c.PutComponent(ctx, component(fmt.Sprintf("svc-%d", i)))
		return err
	}); err != nil {
		return result{}, fmt.Errorf("registering components: %w", err)
	}
	if err := parallel(s.workers, n, func(i int) error { _, err := c.PutInstance(ctx, insts[i]); return err }); err != nil {
		return result{}, fmt.Errorf("registering instances: %w", err)
	}
	res := result{n: n, registerTime: time.Since(t0)}

	interval := s.ttl / 3
	begin := time.Now()
	windowStart := begin.Add(interval) // one interval of warm-up
	windowEnd := windowStart.Add(s.duration)
	runCtx, stopRun := context.WithDeadline(ctx, windowEnd.Add(100*time.Millisecond))
	defer stopRun()

	// Heartbeats: worker w owns instances w, w+workers, ...; instance i is due at
	// begin + i*interval/n + k*interval.
	type stats struct {
		lat                  []time.Duration
		late, failed, reregs int
	}
	per := make([]stats, s.workers)
	var wg sync.WaitGroup
	maxRounds := int(s.duration/interval) + 3
	for w := range s.workers {
		wg.Go(func() {
			st := &per[w]
			for k := 0; k < maxRounds; k++ {
				for i := w; i < n; i += s.workers {
					due := begin.Add(time.Duration(i)*interval/time.Duration(n) + time.Duration(k)*interval)
					if d := time.Until(due); d > 0 {
						select {
						case <-runCtx.Done():
							return
						case <-time.After(d):
						}
					} else if d < -interval/10 {
						st.late++
					}
					if runCtx.Err() != nil {
						return
					}
					t := time.Now()
					_, err := c.HeartbeatInstance(runCtx, insts[i])
					lat := time.Since(t)
					if errors.Is(err, client.ErrNotRegistered) {
						st.reregs++
						_, err = c.PutInstance(runCtx, insts[i])
					}
					if runCtx.Err() != nil {
						return
					}
					if !t.Before(windowStart) && t.Before(windowEnd) {
						if err != nil {
							st.failed++
						} else {
							st.lat = append(st.lat, lat)
						}
					}
				}
			}
		})
	}

	// Watch delivery: one component with 5 instances, of which w-0 changes version.
	watchComp := "watched"
	if _, err := c.PutComponent(ctx, component(watchComp)); err != nil {
		return result{}, err
	}
	for i := range 5 {
		in := instance(watchComp, i, s.ttl, started)
		in.ID = fmt.Sprintf("w-%d", i)
		in.TTLSeconds = 3600
		if _, err := c.PutInstance(ctx, in); err != nil {
			return result{}, err
		}
	}
	var mu sync.Mutex
	sent := map[string]time.Time{} // version -> when its change was sent; guarded by mu
	var deliveries []time.Duration // guarded by mu
	wc, err := newClient(p.api, s.watchers+1)
	if err != nil {
		return result{}, err
	}
	defer wc.Close()
	for range s.watchers {
		wg.Go(func() {
			set, err := wc.Instances(runCtx, watchComp, false)
			if err != nil {
				return
			}
			last := ""
			for range 100000 {
				set, err = wc.WatchInstances(runCtx, watchComp, set.Index, 30*time.Second)
				now := time.Now()
				if err != nil {
					return
				}
				for _, in := range set.Instances {
					if in.ID != "w-0" || in.Version == last {
						continue
					}
					last = in.Version
					mu.Lock()
					if at, ok := sent[in.Version]; ok && !at.Before(windowStart) && now.Before(windowEnd) {
						deliveries = append(deliveries, now.Sub(at))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() {
		in := instance(watchComp, 0, s.ttl, started)
		in.ID, in.TTLSeconds = "w-0", 3600
		for k := 1; k < 100000; k++ {
			select {
			case <-runCtx.Done():
				return
			case <-time.After(s.changeInterval):
			}
			in.Version = fmt.Sprintf("1.0.%d", k)
			mu.Lock()
			sent[in.Version] = time.Now()
			mu.Unlock()
			_, _ = c.PutInstance(runCtx, in)
		}
	})

	// The window: CPU and memory of the catalog.
	select {
	case <-time.After(time.Until(windowStart)):
	case <-p.exited:
		return result{}, errors.New("the catalog exited")
	}
	cpu0, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	h0, err := heartbeatHistogram(p.admin)
	if err != nil {
		return result{}, err
	}
	select {
	case <-time.After(time.Until(windowEnd)):
	case <-p.exited:
		return result{}, errors.New("the catalog exited")
	}
	cpu1, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	h1, err := heartbeatHistogram(p.admin)
	if err != nil {
		return result{}, err
	}
	if total := h1["+Inf"] - h0["+Inf"]; total > 0 {
		res.serverUnder5 = (h1["0.005"] - h0["0.005"]) / total
		res.serverUnder10 = (h1["0.01"] - h0["0.01"]) / total
	}
	res.rssMiB, res.hwmMiB, err = memory(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	stopRun()
	wg.Wait()

	var all []time.Duration
	for _, st := range per {
		all = append(all, st.lat...)
		res.late += st.late
		res.failed += st.failed
		res.reregs += st.reregs
	}
	res.heartbeats = len(all)
	res.heartbeatsPerSecond = float64(len(all)) / s.duration.Seconds()
	res.hbP50, res.hbP99 = percentile(all, 0.50), percentile(all, 0.99)
	if len(all) > 0 {
		res.hbMax = all[len(all)-1]
	}
	res.cpuShare = float64(cpu1-cpu0) / float64(s.duration)
	if len(all) > 0 {
		res.cpuMicrosPerHeartbeat = float64((cpu1-cpu0)/time.Microsecond) / float64(len(all))
	}
	res.deliveries = len(deliveries)
	res.watchP50, res.watchP99 = percentile(deliveries, 0.50), percentile(deliveries, 0.99)
	return res, nil
}

// heartbeatHistogram reads the catalog's http_server_request_duration_seconds buckets
// of the instance PUT route from its admin /metrics: cumulative counts by "le".
func heartbeatHistogram(admin string) (map[string]float64, error) {
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "http_server_request_duration_seconds_bucket{") ||
			!strings.Contains(line, `method="PUT",route="/api/v1/components/{name}/instances/{id}",status_code="200"`) {
			continue
		}
		_, le, ok := strings.Cut(line, `le="`)
		if !ok {
			continue
		}
		le, _, _ = strings.Cut(le, `"`)
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		out[le] += v
	}
	if len(out) == 0 {
		return nil, errors.New("no http_server_request_duration_seconds buckets for the instance PUT route in /metrics")
	}
	return out, sc.Err()
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
