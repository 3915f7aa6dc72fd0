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
	etcd           string // etcd client URLs: CATALOG_STORE=etcd; "start": an etcd of its own per run; empty: bbolt
	replicas       int    // catalog processes over the one etcd
	kill           bool   // SIGKILL the first replica in the middle of the window
}

type result struct {
	label                       string // which catalog binary, the round and the load average after it
	round                       int
	baseline                    bool // measured with -baseline
	n                           int
	heartbeats                  int
	hbP50, hbP99, hbMax         time.Duration
	late, failed, reregs        int
	failovers                   int // heartbeats sent again to another replica after a transport error
	deliveries                  int
	watchP50, watchP99          time.Duration
	cpuShare                    float64 // of one core
	etcdCPUShare                float64 // of one core, when the tool started etcd
	serverUnder5, serverUnder10 float64 // share of heartbeats the catalog's own histogram puts under 5 and 10 ms
	rssMiB, hwmMiB              float64
	registerTime                time.Duration
	heartbeatsPerSecond         float64
	due                         float64 // heartbeats a second the instances send
	cpuMicrosPerHeartbeat       float64
	// With -replicas: the version changes acknowledged in the window, what the watchers
	// on the surviving replicas saw of them, and the instances each survivor lists at the
	// end as live (passing, not expired) against n.
	changes                 int
	watchersSeen, watchersN int // watchers (on survivors) that saw every change, of all of them
	missed                  int // changes a survivor's watcher never saw, summed
	listed                  []int
}

func main() {
	counts := flag.String("n", "1000,10000", "comma-separated instance counts, one catalog process each")
	ttl := flag.Duration("ttl", 30*time.Second, "instance TTL; heartbeats every TTL/3")
	duration := flag.Duration("duration", 30*time.Second, "measured window after a warm-up of one heartbeat interval")
	workers := flag.Int("workers", 64, "concurrent heartbeat senders (connections)")
	watchers := flag.Int("watchers", 50, "long-polling watchers of the watched component (on each replica)")
	change := flag.Duration("change-every", 500*time.Millisecond, "how often the watched component changes")
	bin := flag.String("catalog", "", "catalog binary; empty builds ./cmd/catalog")
	baseline := flag.String("baseline", "", "a second catalog binary (such as one built from an earlier commit) measured in the same run, after each -n: the baseline of the ratios")
	etcd := flag.String("etcd", "", `etcd client URLs: run the catalog on CATALOG_STORE=etcd instead of bbolt (use an empty etcd and one -n per run: the store's data stays in etcd); "start": start etcd (on the PATH) on free loopback ports in a temporary directory, a fresh one per measurement, stopped after it`)
	replicas := flag.Int("replicas", 1, "catalog processes over one etcd (needs -etcd); instance i heartbeats through replica i mod replicas and moves to the next one when its replica does not answer")
	rounds := flag.Int("rounds", 1, "with -baseline: measure each pair this many times, who goes first alternating, and print the median ratios")
	kill := flag.Bool("kill", false, "with -replicas: SIGKILL the first replica in the middle of the window, then check that no instance was lost and that the watchers on the others saw every change")
	nf := noisyFlags()
	cf := churnFlags()
	pf := portalFlags()
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
	if pf.on {
		if err := runPortal(*bin, pf); err != nil {
			fmt.Fprintln(os.Stderr, "bench/catalog:", err)
			os.Exit(1)
		}
		return
	}
	s := settings{ttl: *ttl, duration: *duration, workers: *workers, watchers: *watchers, changeInterval: *change, etcd: *etcd,
		replicas: *replicas, kill: *kill}
	if cf.rate != 0 {
		if err := runChurn(*counts, *bin, s, cf); err != nil {
			fmt.Fprintln(os.Stderr, "bench/catalog:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*counts, *bin, *baseline, *rounds, s); err != nil {
		fmt.Fprintln(os.Stderr, "bench/catalog:", err)
		os.Exit(1)
	}
}

func run(counts, bin, baseline string, rounds int, s settings) error {
	var problems []string
	if s.ttl < 3*time.Second || s.duration <= 0 || s.workers < 1 || s.watchers < 1 || s.changeInterval <= 0 {
		problems = append(problems, "-ttl must be at least 3s; -duration, -workers, -watchers and -change-every positive")
	}
	if s.replicas < 1 || (s.replicas > 1 && s.etcd == "") {
		problems = append(problems, fmt.Sprintf("-replicas: want 1, or more with -etcd (replicas share one etcd), got %d", s.replicas))
	}
	if rounds < 1 {
		problems = append(problems, fmt.Sprintf("-rounds: want 1 or more, got %d", rounds))
	}
	if s.kill && s.replicas < 2 {
		problems = append(problems, "-kill: needs -replicas 2 or more (a replica must survive)")
	}
	var ns []int
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 || n > 100000 {
			problems = append(problems, fmt.Sprintf("-n: want instance counts from 10 to 100000, got %q", f))
			continue
		}
		ns = append(ns, n)
	}
	if s.etcd != "" && s.etcd != "start" && (len(ns) > 1 || baseline != "") {
		problems = append(problems, "-etcd URL: one -n and no -baseline (each measurement needs an empty etcd; -etcd start gives each its own)")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
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
	bins := [][2]string{{"this", bin}}
	if baseline != "" {
		bins = append(bins, [2]string{"baseline", baseline})
	}
	load0 := loadAverage()
	var results []result
	for round := range rounds {
		for _, n := range ns {
			order := slices.Clone(bins)
			if round%2 == 1 { // alternate who goes first: the machine's load drifts
				slices.Reverse(order)
			}
			for _, b := range order {
				r, err := measure(b[1], filepath.Join(dir, fmt.Sprintf("data-%s-%d-%d", b[0], n, round)), n, s)
				if err != nil {
					return fmt.Errorf("%s, n=%d: %w", b[0], n, err)
				}
				r.label = fmt.Sprintf("%s (round %d, load %s)", b[0], round+1, loadAverage())
				r.round, r.baseline = round, b[0] == "baseline"
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "%s n=%d round %d done\n", b[0], n, round+1)
			}
		}
	}
	fmt.Printf("ttl %v (heartbeat every %v), window %v, %d workers, %d watchers, change every %v, store %s, %d replica(s)%s; load average %s at start, %s at end\n\n",
		s.ttl, s.ttl/3, s.duration, s.workers, s.watchers, s.changeInterval, storeName(s.etcd), s.replicas,
		map[bool]string{true: ", the first SIGKILLed mid-window", false: ""}[s.kill], load0, loadAverage())
	fmt.Println("| catalog | instances | heartbeats/s served (due) | heartbeat p50 | p99 | max | server-side ≤5 ms / ≤10 ms | late/failed/re-registered | watch p50 | watch p99 (deliveries) | catalog CPU (one core) | CPU µs/heartbeat | etcd CPU | RSS | peak RSS | register all |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Printf("| %s | %d | %.0f (%.0f) | %s | %s | %s | %.2f%% / %.2f%% | %d/%d/%d | %s | %s (%d) | %.1f%% | %.0f | %s | %.1f MiB | %.1f MiB | %s |\n",
			r.label, r.n, r.heartbeatsPerSecond, r.due, ms(r.hbP50), ms(r.hbP99), ms(r.hbMax), 100*r.serverUnder5, 100*r.serverUnder10, r.late, r.failed, r.reregs,
			ms(r.watchP50), ms(r.watchP99), r.deliveries, 100*r.cpuShare, r.cpuMicrosPerHeartbeat, etcdCPU(r), r.rssMiB, r.hwmMiB, r.registerTime.Round(time.Millisecond))
	}
	if baseline != "" {
		fmt.Println()
		fmt.Println("Medians over the rounds of the ratios this/baseline, each from the pair measured one after the other:")
		fmt.Println()
		fmt.Println("| instances | rounds | p50 | p99 | heartbeats served | catalog CPU/heartbeat | etcd CPU |")
		fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
		for _, n := range ns {
			var p50, p99, served, cpu, ecpu []float64
			for round := range rounds {
				var a, b result
				for _, r := range results {
					if r.n == n && r.round == round {
						if r.baseline {
							b = r
						} else {
							a = r
						}
					}
				}
				p50 = append(p50, ratio(float64(a.hbP50), float64(b.hbP50)))
				p99 = append(p99, ratio(float64(a.hbP99), float64(b.hbP99)))
				served = append(served, ratio(a.heartbeatsPerSecond, b.heartbeatsPerSecond))
				cpu = append(cpu, ratio(a.cpuMicrosPerHeartbeat, b.cpuMicrosPerHeartbeat))
				ecpu = append(ecpu, ratio(a.etcdCPUShare, b.etcdCPUShare))
			}
			fmt.Printf("| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n, rounds, median(p50), median(p99), median(served), median(cpu), median(ecpu))
		}
	}
	if s.replicas > 1 {
		fmt.Println()
		fmt.Println("| catalog | instances | replicas | heartbeats moved to another replica | re-registered | live instances listed by each surviving replica at the end | changes made | watchers on survivors that saw every change | changes missed |")
		fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		for _, r := range results {
			fmt.Printf("| %s | %d | %d | %d | %d | %v of %d | %d | %d of %d | %d |\n", r.label, r.n, s.replicas, r.failovers, r.reregs, r.listed, r.n,
				r.changes, r.watchersSeen, r.watchersN, r.missed)
		}
	}
	return nil
}

func median(v []float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func storeName(etcd string) string {
	switch etcd {
	case "":
		return "bbolt"
	case "start":
		return "etcd (started by the tool)"
	}
	return "etcd at " + etcd
}

func etcdCPU(r result) string {
	if r.etcdCPUShare == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*r.etcdCPUShare)
}

// loadAverage returns the 1-minute load average from /proc/loadavg, "?" when unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
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

// answered reports whether err is the catalog's answer (a status), not a transport error
// (the replica is down or the connection broke).
func answered(err error) bool {
	var ce *client.Error
	return err == nil || errors.As(err, &ce)
}

func measure(bin, dataDir string, n int, s settings) (result, error) {
	etcdURL := s.etcd
	var ep *etcdProc
	if s.etcd == "start" {
		var err error
		if ep, err = startEtcd(dataDir + "-etcd"); err != nil {
			return result{}, err
		}
		defer ep.stop()
		etcdURL = ep.url
	}
	procs := make([]*proc, s.replicas)
	cs := make([]*client.Client, s.replicas)
	for r := range procs {
		p, err := start(bin, fmt.Sprintf("%s-%d", dataDir, r), etcdURL)
		if err != nil {
			return result{}, fmt.Errorf("replica %d: %w", r, err)
		}
		defer p.stop()
		procs[r] = p
		if cs[r], err = newClient(p.api, s.workers); err != nil {
			return result{}, err
		}
		defer cs[r].Close()
	}
	// The catalog process measured: the last replica, which survives -kill.
	p := procs[len(procs)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Components and instances: n instances over n/10 components, registered by the
	// workers in parallel, instance i through replica i mod replicas.
	comps := max(1, n/10)
	started := time.Now().UTC().Truncate(time.Second)
	insts := make([]catalog.Instance, n)
	rep := make([]int, n) // the replica instance i heartbeats through; owned by its worker
	for i := range n {
		insts[i] = instance(fmt.Sprintf("svc-%d", i%comps), i, s.ttl, started)
		rep[i] = i % s.replicas
	}
	t0 := time.Now()
	if err := parallel(s.workers, comps, func(i int) error {
		_, err := cs[0].PutComponent(ctx, component(fmt.Sprintf("svc-%d", i)))
		return err
	}); err != nil {
		return result{}, fmt.Errorf("registering components: %w", err)
	}
	if err := parallel(s.workers, n, func(i int) error { _, err := cs[rep[i]].PutInstance(ctx, insts[i]); return err }); err != nil {
		return result{}, fmt.Errorf("registering instances: %w", err)
	}
	res := result{n: n, registerTime: time.Since(t0), due: float64(n) / (s.ttl / 3).Seconds()}

	interval := s.ttl / 3
	begin := time.Now()
	windowStart := begin.Add(interval) // one interval of warm-up
	windowEnd := windowStart.Add(s.duration)
	runCtx, stopRun := context.WithDeadline(ctx, windowEnd.Add(100*time.Millisecond))
	defer stopRun()

	// Heartbeats: worker w owns instances w, w+workers, ...; instance i is due at
	// begin + i*interval/n + k*interval. A heartbeat its replica does not answer goes to
	// the next replica, as an agent behind a load balancer would see it.
	type stats struct {
		lat                             []time.Duration
		late, failed, reregs, failovers int
	}
	per := make([]stats, s.workers)
	var wg sync.WaitGroup
	maxRounds := int(s.duration/interval) + 3
	for w := range s.workers {
		wg.Go(func() {
			st := &per[w]
			send := func(i int, call func(*client.Client) error) error {
				var err error
				for range s.replicas {
					if err = call(cs[rep[i]]); answered(err) || runCtx.Err() != nil {
						return err
					}
					rep[i] = (rep[i] + 1) % s.replicas
					st.failovers++
				}
				return err
			}
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
					err := send(i, func(c *client.Client) error { _, err := c.HeartbeatInstance(runCtx, insts[i]); return err })
					lat := time.Since(t)
					if errors.Is(err, client.ErrNotRegistered) {
						st.reregs++
						err = send(i, func(c *client.Client) error { _, err := c.PutInstance(runCtx, insts[i]); return err })
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

	// Watch delivery: one component with 5 instances, of which w-0 changes version,
	// watched by s.watchers long polls on each replica.
	watchComp := "watched"
	if _, err := cs[0].PutComponent(ctx, component(watchComp)); err != nil {
		return result{}, err
	}
	for i := range 5 {
		in := instance(watchComp, i, s.ttl, started)
		in.ID = fmt.Sprintf("w-%d", i)
		in.TTLSeconds = 3600
		if _, err := cs[0].PutInstance(ctx, in); err != nil {
			return result{}, err
		}
	}
	var mu sync.Mutex
	sent := map[string]time.Time{} // version -> when its change was sent; guarded by mu
	acked := map[string]bool{}     // versions of the window whose change was acknowledged; guarded by mu
	var deliveries []time.Duration // guarded by mu
	type watcher struct {
		replica int
		seen    map[string]bool // versions of w-0 seen; guarded by mu
	}
	var ws []*watcher
	for r := range procs {
		wc, err := newClient(procs[r].api, s.watchers+1)
		if err != nil {
			return result{}, err
		}
		defer wc.Close()
		for range s.watchers {
			wt := &watcher{replica: r, seen: map[string]bool{}}
			ws = append(ws, wt)
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
						wt.seen[in.Version] = true
						if at, ok := sent[in.Version]; ok && !at.Before(windowStart) && now.Before(windowEnd) {
							deliveries = append(deliveries, now.Sub(at))
						}
						mu.Unlock()
					}
				}
			})
		}
	}
	killed := -1
	wg.Go(func() {
		in := instance(watchComp, 0, s.ttl, started)
		in.ID, in.TTLSeconds = "w-0", 3600
		r := 0
		for k := 1; k < 100000; k++ {
			select {
			case <-runCtx.Done():
				return
			case <-time.After(s.changeInterval):
			}
			in.Version = fmt.Sprintf("1.0.%d", k)
			at := time.Now()
			mu.Lock()
			sent[in.Version] = at
			mu.Unlock()
			for range s.replicas {
				_, err := cs[r].PutInstance(runCtx, in)
				if answered(err) {
					if err == nil && !at.Before(windowStart) && at.Add(s.changeInterval).Before(windowEnd) {
						mu.Lock()
						acked[in.Version] = true
						mu.Unlock()
					}
					break
				}
				r = (r + 1) % s.replicas
			}
		}
	})
	if s.kill {
		killed = 0
		wg.Go(func() {
			select {
			case <-runCtx.Done():
			case <-time.After(time.Until(windowStart.Add(s.duration / 2))):
				_ = procs[killed].cmd.Process.Kill()
			}
		})
	}

	// The window: CPU and memory of the catalog (and of etcd when the tool started it).
	select {
	case <-time.After(time.Until(windowStart)):
	case <-p.exited:
		return result{}, errors.New("the catalog exited")
	}
	cpu0, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	var ecpu0, ecpu1 time.Duration
	if ep != nil {
		if ecpu0, err = cpuTime(ep.cmd.Process.Pid); err != nil {
			return result{}, err
		}
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
	if ep != nil {
		if ecpu1, err = cpuTime(ep.cmd.Process.Pid); err != nil {
			return result{}, err
		}
		res.etcdCPUShare = float64(ecpu1-ecpu0) / float64(s.duration)
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
		res.failovers += st.failovers
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
	if s.replicas > 1 {
		res.changes = len(acked)
		for _, wt := range ws {
			if wt.replica == killed {
				continue
			}
			res.watchersN++
			missed := 0
			for v := range acked {
				if !wt.seen[v] {
					missed++
				}
			}
			res.missed += missed
			if missed == 0 {
				res.watchersSeen++
			}
		}
		// Every instance, listed by each surviving replica: live (passing, not expired).
		for r := range procs {
			if r == killed {
				continue
			}
			live := 0
			for k := range comps {
				set, err := cs[r].Instances(ctx, fmt.Sprintf("svc-%d", k), true)
				if err != nil {
					return result{}, fmt.Errorf("replica %d lists svc-%d: %w", r, k, err)
				}
				for _, in := range set.Instances {
					if !in.Expired && in.Status == catalog.StatusPassing {
						live++
					}
				}
			}
			res.listed = append(res.listed, live)
		}
	}
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
