package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/internal/testenv"
)

// buildCatalog builds cmd/catalog into a temporary directory.
func buildCatalog(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "catalog")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/catalog")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/catalog: %v\n%s", err, out)
	}
	return bin
}

// startCatalogProc runs the catalog on etcd at endpoints and waits for its ready line.
func startCatalogProc(t *testing.T, bin, endpoints string) *proc {
	t.Helper()
	return startProc(t, bin, "CATALOG_STORE=etcd", "ETCD_ENDPOINTS="+endpoints, "CATALOG_ADMIN_TOKEN="+adminToken, "REGISTRY=none",
		// Every client of the test comes from 127.0.0.1: the per-client limits would
		// pace the moved instances' heartbeats (their new replica does not know them yet).
		"CATALOG_RATE_PER_CLIENT=0", "CATALOG_RATE_PER_BEARER=0", "CATALOG_MAX_CONNS_PER_CLIENT=0")
}

// answered reports whether err is the catalog's answer, not a transport error.
func answered(err error) bool {
	var ce *client.Error
	return err == nil || errors.As(err, &ce)
}

// Three catalog processes over one etcd, instances heartbeating through all three, and one
// of them killed with SIGKILL: the heartbeats of its instances move to another replica,
// no instance is lost (never missing from the healthy list of a surviving replica, all
// live at the end), and the watchers on the survivors see every change.
func TestCatalogReplicaKilled(t *testing.T) {
	endpoints := testenv.Require(t, "PAVED_TEST_ETCD_ENDPOINTS", "")
	bin := buildCatalog(t)
	const replicas, n, comps, ttl = 3, 150, 3, 4 * time.Second
	reps := make([]*proc, replicas)
	cs := make([]*client.Client, replicas)
	for r := range reps {
		reps[r] = startCatalogProc(t, bin, endpoints)
		cs[r] = newClient(t, reps[r].api, adminToken)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	// Components of their own (the etcd is shared with other tests), deleted at the end.
	run := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	name := func(k int) string { return fmt.Sprintf("replicas-%s-%d", run, k) }
	watched := "replicas-" + run + "-watched"
	for k := range comps + 1 {
		c := name(k)
		if k == comps {
			c = watched
		}
		if _, err := cs[0].PutComponent(ctx, component(c)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs[replicas-1].DeleteComponent(context.Background(), c) })
	}
	inst := func(comp, id string) catalog.Instance {
		return catalog.Instance{ID: id, Component: comp, Version: "1.0.0", TTLSeconds: int(ttl / time.Second),
			Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080", Admin: "127.0.0.1:9090"}, StartedAt: time.Now().UTC().Truncate(time.Second),
			Status: catalog.StatusPassing}
	}
	insts := make([]catalog.Instance, n)
	for i := range insts {
		insts[i] = inst(name(i%comps), fmt.Sprintf("i-%d", i))
	}
	if _, err := cs[0].PutInstance(ctx, inst(watched, "w-0")); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed, reregistered int // heartbeats failed, instances re-registered
	movedFrom := map[int]int{}   // instances that moved to another replica, by the replica they left first
	// send calls through replica *r, moving to the next one while they do not answer.
	send := func(r *int, call func(*client.Client) error) error {
		var err error
		for range replicas {
			if err = call(cs[*r]); answered(err) || runCtx.Err() != nil {
				return err
			}
			*r = (*r + 1) % replicas
		}
		return err
	}
	// Each instance registers through replica i mod replicas, then heartbeats every TTL/3.
	var registered sync.WaitGroup
	registered.Add(n)
	for i := range insts {
		wg.Go(func() {
			r := i % replicas
			_, err := cs[r].PutInstance(runCtx, insts[i])
			registered.Done()
			if err != nil {
				t.Errorf("register %s/%s: got %v, want nil", insts[i].Component, insts[i].ID, err)
				return
			}
			tick := time.NewTicker(ttl / 3)
			defer tick.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
				}
				before := r
				err := send(&r, func(c *client.Client) error { _, err := c.HeartbeatInstance(runCtx, insts[i]); return err })
				if r != before {
					mu.Lock()
					if _, ok := movedFrom[i]; !ok {
						movedFrom[i] = before
					}
					mu.Unlock()
				}
				if errors.Is(err, client.ErrNotRegistered) {
					mu.Lock()
					reregistered++
					mu.Unlock()
					err = send(&r, func(c *client.Client) error { _, err := c.PutInstance(runCtx, insts[i]); return err })
				}
				if err != nil && runCtx.Err() == nil {
					mu.Lock()
					failed++
					mu.Unlock()
					t.Errorf("%s/%s: got %v, want its heartbeat answered by a replica", insts[i].Component, insts[i].ID, err)
				}
			}
		})
	}
	registered.Wait()
	// Watchers on each replica: the healthy instances of each component (never fewer
	// than registered), and the versions of the watched instance.
	type watcher struct {
		replica int
		comp    string
		lowest  int             // fewest healthy instances seen; guarded by mu
		seen    map[string]bool // versions of w-0 seen; guarded by mu
	}
	var ws []*watcher
	for r := range reps {
		for k := range comps + 1 {
			w := &watcher{replica: r, comp: name(k), lowest: n, seen: map[string]bool{}}
			if k == comps {
				w.comp = watched
			}
			ws = append(ws, w)
			wg.Go(func() {
				var index uint64
				for runCtx.Err() == nil {
					set, err := cs[r].WatchInstances(runCtx, w.comp, index, 5*time.Second)
					if err != nil {
						return // the replica was killed, or the run is over
					}
					index = set.Index
					mu.Lock()
					w.lowest = min(w.lowest, len(set.Instances))
					for _, in := range set.Instances {
						if in.ID == "w-0" {
							w.seen[in.Version] = true
						}
					}
					mu.Unlock()
				}
			})
		}
	}
	// Changes: w-0 changes version every 100 ms through the replicas in turn.
	var acked []string
	changesDone := make(chan struct{})
	wg.Go(func() {
		defer close(changesDone)
		in := inst(watched, "w-0")
		r := 0
		for k := 1; runCtx.Err() == nil; k++ {
			in.Version = fmt.Sprintf("1.0.%d", k)
			if err := send(&r, func(c *client.Client) error { _, err := c.PutInstance(runCtx, in); return err }); err != nil {
				if runCtx.Err() == nil {
					t.Errorf("change %s: got %v, want nil", in.Version, err)
				}
				return
			}
			mu.Lock()
			acked = append(acked, in.Version)
			mu.Unlock()
			r = (r + 1) % replicas
			select {
			case <-runCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	time.Sleep(2 * time.Second)
	if err := reps[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-reps[0].exited
	time.Sleep(3 * ttl) // three TTLs after the kill: an instance left without heartbeats would expire
	// The last change reaches every watcher on the survivors before the run ends.
	mu.Lock()
	last := acked[len(acked)-1]
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		caught := true
		for _, w := range ws {
			if w.replica != 0 && w.comp == watched && !w.seen[last] {
				caught = false
			}
		}
		mu.Unlock()
		if caught || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	<-changesDone

	per := map[string]int{}
	for i := range insts {
		per[insts[i].Component]++
	}
	seenAll := 0
	for _, w := range ws {
		if w.replica == 0 {
			continue
		}
		if w.comp != watched && w.lowest != per[w.comp] {
			t.Errorf("replica %d, %s: got as few as %d healthy instances, want %d throughout", w.replica, w.comp, w.lowest, per[w.comp])
		}
		if w.comp != watched {
			continue
		}
		var missed []string
		for _, v := range acked {
			if !w.seen[v] {
				missed = append(missed, v)
			}
		}
		// A long poll holds the latest set: changes 100 ms apart are each seen.
		if len(missed) > 0 {
			t.Errorf("replica %d watcher: missed %d of %d changes: %v", w.replica, len(missed), len(acked), missed)
		} else {
			seenAll++
		}
	}
	for r := 1; r < replicas; r++ {
		live := 0
		for k := range comps {
			set, err := cs[r].Instances(ctx, name(k), true)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range set.Instances {
				if !in.Expired && in.Status == catalog.StatusPassing {
					live++
				}
			}
		}
		if live != n {
			t.Errorf("replica %d lists %d live instances, want %d", r, live, n)
		}
	}
	// Every instance of the killed replica moved; one of a survivor may move too, when a
	// heartbeat of it was not answered in time on a loaded machine: that is the client's
	// failover working, not a loss.
	moved := 0
	for i := range insts {
		if from, ok := movedFrom[i]; ok && from == 0 {
			moved++
		}
	}
	if failed != 0 || reregistered != 0 || moved != n/replicas {
		t.Errorf("got %d heartbeats failed, %d instances re-registered, %d instances moved off the killed replica (%d in all); want 0, 0, %d (all of the killed one's)",
			failed, reregistered, moved, len(movedFrom), n/replicas)
	}
	t.Logf("%d changes made, every one seen by %d of %d watchers of them on the survivors; %d instances moved off the killed replica, none lost",
		len(acked), seenAll, replicas-1, moved)
}
