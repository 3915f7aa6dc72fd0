package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
)

// The churn benchmark (-churn, reliability test L3 of issue #15): N instances heartbeat
// for -duration while a share of them (-churn a minute) deregister and as many new ones
// register, spread evenly over each minute. One watcher long-polls each component. It
// counts false expirations (a heartbeat answered 412, or a watcher's set without an
// instance that was registered before the watch was sent and not deregistered before
// the answer came, or holding it expired or critical), and measures registration and
// watch delivery latency and the catalog's RSS from the end of the warm-up to the end.

type churnSettings struct {
	rate   float64       // share of the instances replaced a minute
	warmup time.Duration // before the RSS baseline
}

func churnFlags() *churnSettings {
	c := &churnSettings{}
	flag.Float64Var(&c.rate, "churn", 0, "run the churn benchmark instead (L3): this share of the -n instances deregister and as many new ones register every minute, spread over the minute (0.1: 10 %), for -duration after -churn-warmup")
	flag.DurationVar(&c.warmup, "churn-warmup", time.Minute, "warm-up of -churn, with heartbeats and churn on, before the RSS baseline and the measured window")
	return c
}

// churnInstance is one simulated instance: its record and its heartbeat loop.
type churnInstance struct {
	in        catalog.Instance
	regAck    time.Time // when its registration was answered
	deregSent time.Time // when its deregistration was sent; zero while it lives
	stop      context.CancelFunc
	done      chan struct{}
}

// churnState is what the instances, the churner and the watchers share.
type churnState struct {
	mu        sync.Mutex
	byComp    map[string]map[string]*churnInstance // guarded by mu
	live      []*churnInstance                     // guarded by mu
	pending   map[string]churnEvent                // instance id -> change not yet seen by its watcher; guarded by mu
	delivery  []time.Duration                      // guarded by mu
	registers []time.Duration                      // churn registrations' latency; guarded by mu
	deregs    []time.Duration                      // guarded by mu
	hbLat     []time.Duration                      // guarded by mu
	examples  []string                             // the first false expirations; guarded by mu

	hbOK, hbFailed, hb412     atomic.Int64
	watchMissing, watchStatus atomic.Int64
	watchSets                 atomic.Int64
	churnFailed               atomic.Int64
}

type churnEvent struct {
	comp  string
	added bool // registered; false: deregistered
	sent  time.Time
}

func (s *churnState) example(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.examples) < 10 {
		s.examples = append(s.examples, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	}
}

// window is the measured window.
type window struct{ from, to time.Time }

// has reports whether t is in the window.

func (w window) has(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func runChurn(counts, bin string, s settings, c *churnSettings) error {
	n, err := strconv.Atoi(strings.TrimSpace(counts))
	if err != nil || n < 10 || n > 100000 {
		return fmt.Errorf("-n: -churn takes one instance count from 10 to 100000, got %q", counts)
	}
	if c.rate <= 0 || c.rate > 1 || c.warmup < 0 || s.duration <= 0 || s.ttl < 3*time.Second {
		return errors.New("-churn must be a share from 0 to 1 (0.1 is 10 % a minute), -churn-warmup 0 or more, -duration positive, -ttl at least 3s")
	}
	dir, err := os.MkdirTemp("", "catalogchurn")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin, err = buildCatalog(bin, dir); err != nil {
		return err
	}
	p, err := start(bin, filepath.Join(dir, "data"), s.etcd)
	if err != nil {
		return err
	}
	defer p.stop()
	cl, err := newClient(p.api, s.workers)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.warmup+s.duration+5*time.Minute)
	defer cancel()

	comps := max(1, n/10)
	st := &churnState{byComp: map[string]map[string]*churnInstance{}, pending: map[string]churnEvent{}}
	for i := range comps {
		name := fmt.Sprintf("svc-%d", i)
		st.byComp[name] = map[string]*churnInstance{}
		if _, err := cl.PutComponent(ctx, component(name)); err != nil {
			return fmt.Errorf("registering components: %w", err)
		}
	}
	started := time.Now().UTC().Truncate(time.Second)
	insts := make([]*churnInstance, n)
	t0 := time.Now()
	if err := parallel(s.workers, n, func(i int) error {
		in := instance(fmt.Sprintf("svc-%d", i%comps), i, s.ttl, started)
		if _, err := cl.PutInstance(ctx, in); err != nil {
			return err
		}
		insts[i] = &churnInstance{in: in, regAck: time.Now()}
		return nil
	}); err != nil {
		return fmt.Errorf("registering instances: %w", err)
	}
	registerAll := time.Since(t0)

	begin := time.Now()
	w := window{from: begin.Add(c.warmup)}
	w.to = w.from.Add(s.duration)
	runCtx, stopRun := context.WithDeadline(ctx, w.to)
	defer stopRun()
	interval := s.ttl / 3
	var loops sync.WaitGroup
	st.mu.Lock()
	for _, ci := range insts {
		st.byComp[ci.in.Component][ci.in.ID] = ci
		st.live = append(st.live, ci)
		st.startLocked(runCtx, cl, ci, interval, w, &loops)
	}
	st.mu.Unlock()

	// One watcher per component.
	wc, err := newClient(p.api, comps+1)
	if err != nil {
		return err
	}
	defer wc.Close()
	var watchers sync.WaitGroup
	for i := range comps {
		watchers.Go(func() { st.watch(runCtx, wc, fmt.Sprintf("svc-%d", i), w) })
	}

	// The churn: every minute/(n*rate), one instance leaves and a new one comes.
	every := time.Duration(float64(time.Minute) / (float64(n) * c.rate))
	var churner sync.WaitGroup
	churner.Go(func() {
		next := n
		tick := time.NewTicker(every)
		defer tick.Stop()
		for k := 0; k < 10_000_000; k++ {
			select {
			case <-runCtx.Done():
				return
			case <-tick.C:
			}
			if err := st.replace(runCtx, cl, next, s.ttl, interval, w, &loops); err != nil && runCtx.Err() == nil {
				st.churnFailed.Add(1)
				st.example("churn: %v", err)
			}
			next++
		}
	})

	// RSS after the warm-up, every minute, and at the end.
	select {
	case <-time.After(time.Until(w.from)):
	case <-p.exited:
		return errors.New("the catalog exited")
	}
	rss0, _, err := memory(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpu0, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	store0, err := storeHistogram(p.admin, "put_instance")
	if err != nil {
		return err
	}
	rssEvery := []float64{rss0}
	for t := w.from.Add(time.Minute); t.Before(w.to); t = t.Add(time.Minute) {
		select {
		case <-time.After(time.Until(t)):
		case <-p.exited:
			return errors.New("the catalog exited")
		}
		r, _, err := memory(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		rssEvery = append(rssEvery, r)
		fmt.Fprintf(os.Stderr, "%s: %d heartbeats, %d churned, RSS %.1f MiB\n", time.Now().Format("15:04:05"), st.hbOK.Load(), len(st.registersCopy()), r)
	}
	select {
	case <-time.After(time.Until(w.to)):
	case <-p.exited:
		return errors.New("the catalog exited")
	}
	rss1, hwm, err := memory(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpu1, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	store1, err := storeHistogram(p.admin, "put_instance")
	if err != nil {
		return err
	}
	rssEvery = append(rssEvery, rss1)
	stopRun()
	churner.Wait()
	loops.Wait()
	watchers.Wait()

	st.mu.Lock()
	defer st.mu.Unlock()
	falseExp := st.hb412.Load() + st.watchMissing.Load() + st.watchStatus.Load()
	fmt.Printf("%d instances over %d components, TTL %v (heartbeat every %v), churn %.0f %% a minute (one replaced every %v), warm-up %v, window %v, one watcher per component\n\n",
		n, comps, s.ttl, interval, 100*c.rate, every, c.warmup, s.duration)
	fmt.Println("| false expirations (412 / missing from a watch / expired or critical in a watch) | heartbeats ok (failed) | heartbeat p50 / p99 | replaced (failed) | register p50 / p99 / max | deregister p99 | watch delivery p50 / p99 / max (changes) | watch answers | RSS after warm-up → end (peak) | RSS growth | catalog CPU | register all |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	regP50, regP99, regMax := percentile(st.registers, 0.5), percentile(st.registers, 0.99), percentile(st.registers, 1)
	dP50, dP99, dMax := percentile(st.delivery, 0.5), percentile(st.delivery, 0.99), percentile(st.delivery, 1)
	fmt.Printf("| %d (%d / %d / %d) | %d (%d) | %s / %s | %d (%d) | %s / %s / %s | %s | %s / %s / %s (%d) | %d | %.1f → %.1f MiB (%.1f) | %+.1f%% | %.1f%% | %s |\n",
		falseExp, st.hb412.Load(), st.watchMissing.Load(), st.watchStatus.Load(), st.hbOK.Load(), st.hbFailed.Load(),
		ms(percentile(st.hbLat, 0.5)), ms(percentile(st.hbLat, 0.99)), len(st.registers), st.churnFailed.Load(),
		ms(regP50), ms(regP99), ms(regMax), ms(percentile(st.deregs, 0.99)), ms(dP50), ms(dP99), ms(dMax), len(st.delivery), st.watchSets.Load(),
		rss0, rss1, hwm, 100*(rss1-rss0)/rss0, 100*float64(cpu1-cpu0)/float64(s.duration), registerAll.Round(time.Millisecond))
	var steps []string
	for _, r := range rssEvery {
		steps = append(steps, fmt.Sprintf("%.1f", r))
	}
	fmt.Printf("\nRSS each minute of the window (MiB): %s\n", strings.Join(steps, ", "))
	if total := store1["+Inf"] - store0["+Inf"]; total > 0 {
		// Registrations of the churn and of the watched set's re-registrations after a
		// 412, in the store alone (the catalog's own histogram): the share of the
		// client's register latency that is the store's write.
		fmt.Printf("registrations in the store (paved_catalog_store_duration_seconds{operation=\"put_instance\"}, %d in the window): ≤10 ms %.1f%%, ≤25 ms %.1f%%, ≤50 ms %.1f%%, ≤100 ms %.1f%%, ≤250 ms %.1f%%\n",
			int(total), 100*(store1["0.01"]-store0["0.01"])/total, 100*(store1["0.025"]-store0["0.025"])/total,
			100*(store1["0.05"]-store0["0.05"])/total, 100*(store1["0.1"]-store0["0.1"])/total, 100*(store1["0.25"]-store0["0.25"])/total)
	}
	if pend := len(st.pending); pend > 0 {
		fmt.Printf("changes not seen by their watcher at the end: %d\n", pend)
	}
	for _, e := range st.examples {
		fmt.Println("  ", e)
	}
	return nil
}

// buildCatalog returns bin, or builds ./cmd/catalog into dir when bin is empty.
func buildCatalog(bin, dir string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(dir, "catalog")
	build := exec.Command("go", "build", "-o", bin, "./cmd/catalog")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building ./cmd/catalog (run from the module root): %w", err)
	}
	return bin, nil
}

// startLocked starts ci's heartbeat loop: the first heartbeat at a random point of the
// interval (as the agent's jitter), then one every interval.
func (s *churnState) startLocked(ctx context.Context, cl *client.Client, ci *churnInstance, interval time.Duration, w window, loops *sync.WaitGroup) {
	ictx, stop := context.WithCancel(ctx)
	ci.stop, ci.done = stop, make(chan struct{})
	loops.Go(func() {
		defer close(ci.done)
		due := time.Now().Add(rand.N(interval))
		for k := 0; k < 1_000_000; k++ {
			select {
			case <-ictx.Done():
				return
			case <-time.After(time.Until(due)):
			}
			t := time.Now()
			_, err := cl.HeartbeatInstance(ictx, ci.in)
			lat := time.Since(t)
			if ictx.Err() != nil {
				return
			}
			switch {
			case errors.Is(err, client.ErrNotRegistered):
				s.hb412.Add(1)
				s.example("heartbeat of %s/%s answered 412", ci.in.Component, ci.in.ID)
				_, _ = cl.PutInstance(ictx, ci.in)
			case err != nil:
				s.hbFailed.Add(1)
				s.example("heartbeat of %s/%s: %v", ci.in.Component, ci.in.ID, err)
			default:
				s.hbOK.Add(1)
				if w.has(t) {
					s.mu.Lock()
					s.hbLat = append(s.hbLat, lat)
					s.mu.Unlock()
				}
			}
			due = due.Add(interval)
		}
	})
}

// replace deregisters a random live instance (after stopping its heartbeats) and
// registers a new one, number id, in the same component.
func (s *churnState) replace(ctx context.Context, cl *client.Client, id int, ttl, interval time.Duration, w window, loops *sync.WaitGroup) error {
	s.mu.Lock()
	k := rand.N(len(s.live))
	old := s.live[k]
	s.live = slices.Delete(s.live, k, k+1)
	s.mu.Unlock()
	old.stop()
	<-old.done

	t := time.Now()
	s.mu.Lock()
	old.deregSent = t
	s.pending[old.in.ID] = churnEvent{comp: old.in.Component, sent: t}
	s.mu.Unlock()
	err := cl.DeleteInstance(ctx, old.in.Component, old.in.ID)
	lat := time.Since(t)
	s.mu.Lock()
	delete(s.byComp[old.in.Component], old.in.ID)
	if w.has(t) && err == nil {
		s.deregs = append(s.deregs, lat)
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("deregistering %s/%s: %w", old.in.Component, old.in.ID, err)
	}

	in := instance(old.in.Component, id, ttl, time.Now().UTC().Truncate(time.Second))
	in.ID = fmt.Sprintf("c-%d", id)
	ci := &churnInstance{in: in}
	t = time.Now()
	s.mu.Lock()
	s.pending[in.ID] = churnEvent{comp: in.Component, added: true, sent: t}
	s.mu.Unlock()
	_, err = cl.PutInstance(ctx, in)
	lat = time.Since(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		delete(s.pending, in.ID)
		return fmt.Errorf("registering %s/%s: %w", in.Component, in.ID, err)
	}
	ci.regAck = time.Now()
	if w.has(t) {
		s.registers = append(s.registers, lat)
	}
	s.byComp[in.Component][in.ID] = ci
	s.live = append(s.live, ci)
	s.startLocked(ctx, cl, ci, interval, w, loops)
	return nil
}

func (s *churnState) registersCopy() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registers)
}

// watch long-polls comp's healthy instances. In each answer, every instance registered
// before the request was sent and not deregistered before the answer came must be
// there, passing and not expired; each change the churn made is timed from when it was
// sent to the first answer that shows it.
func (s *churnState) watch(ctx context.Context, wc *client.Client, comp string, w window) {
	var index uint64
	for k := 0; k < 1_000_000 && ctx.Err() == nil; k++ {
		sent := time.Now()
		var set client.InstanceSet
		var err error
		if index == 0 {
			set, err = wc.Instances(ctx, comp, false)
		} else {
			set, err = wc.WatchInstances(ctx, comp, index, 30*time.Second)
		}
		got := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.example("watch of %s: %v", comp, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		index = set.Index
		s.watchSets.Add(1)
		present := map[string]catalog.Instance{}
		for _, in := range set.Instances {
			present[in.ID] = in
		}
		s.mu.Lock()
		for id, ci := range s.byComp[comp] {
			if ci.regAck.IsZero() || !ci.regAck.Before(sent) || (!ci.deregSent.IsZero() && ci.deregSent.Before(got)) {
				continue
			}
			in, ok := present[id]
			switch {
			case !ok:
				s.watchMissing.Add(1)
				if len(s.examples) < 10 {
					s.examples = append(s.examples, fmt.Sprintf("%s watch of %s: %s missing", got.Format("15:04:05.000"), comp, id))
				}
			case in.Expired || in.Status == catalog.StatusCritical:
				s.watchStatus.Add(1)
				if len(s.examples) < 10 {
					s.examples = append(s.examples, fmt.Sprintf("%s watch of %s: %s expired=%v status=%s", got.Format("15:04:05.000"), comp, id, in.Expired, in.Status))
				}
			}
		}
		for id, ev := range s.pending {
			if ev.comp != comp {
				continue
			}
			if _, ok := present[id]; ok == ev.added {
				delete(s.pending, id)
				if w.has(ev.sent) {
					s.delivery = append(s.delivery, got.Sub(ev.sent))
				}
			}
		}
		s.mu.Unlock()
	}
}

// storeHistogram reads the catalog's paved_catalog_store_duration_seconds buckets of
// one operation from its admin /metrics: cumulative counts by "le".
func storeHistogram(admin, op string) (map[string]float64, error) {
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
		if !strings.HasPrefix(line, "paved_catalog_store_duration_seconds_bucket{") || !strings.Contains(line, `operation="`+op+`"`) {
			continue
		}
		_, le, ok := strings.Cut(line, `le="`)
		if !ok {
			continue
		}
		le, _, _ = strings.Cut(le, `"`)
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			out[le] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no paved_catalog_store_duration_seconds buckets for %s in the catalog's /metrics", op)
	}
	return out, nil
}
