package bbolt_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/bbolt"
	"github.com/paved-road/paved/catalog/store/storetest"
)

func TestMain(m *testing.M) {
	if killChild() {
		return
	}
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	type file struct {
		path  string
		grace time.Duration
	}
	var mu sync.Mutex
	files := map[store.Store]file{} // where each store of the suite lives, for Reopen
	storetest.Run(t, storetest.Harness{
		Synctest: true,
		New: func(t *testing.T, grace time.Duration) store.Store {
			path := filepath.Join(t.TempDir(), "catalog.db")
			s, err := bbolt.Open(path, bbolt.Options{Grace: grace})
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			mu.Lock()
			files[s] = file{path, grace}
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			mu.Lock()
			f := files[s]
			mu.Unlock()
			s2, err := bbolt.Open(f.path, bbolt.Options{Grace: f.grace})
			if err != nil {
				t.Fatalf("reopen: got %v, want nil", err)
			}
			return s2
		},
	})
}

func BenchmarkHeartbeat(b *testing.B) {
	s, err := bbolt.Open(filepath.Join(b.TempDir(), "catalog.db"), bbolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkHeartbeat(b, s, 1000)
}

// A heartbeat is seen by reads at once, and written by Close: it is there on reopen.
func TestHeartbeatWrittenOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := bbolt.Open(path, bbolt.Options{SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	in := storetest.Instance("orders", "i-1")
	in.TTLSeconds = 3600
	first, err := s.PutInstance(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	hb, err := s.PutInstance(ctx, in)
	if err != nil || !hb.LastHeartbeat.After(first.LastHeartbeat) {
		t.Fatalf("got %v, %v, want a later heartbeat than %v", hb.LastHeartbeat, err, first.LastHeartbeat)
	}
	set, _ := s.Instances(ctx, "orders")
	if !set.Instances[0].LastHeartbeat.Equal(hb.LastHeartbeat) {
		t.Fatalf("got %v listed, want the heartbeat %v", set.Instances[0].LastHeartbeat, hb.LastHeartbeat)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set, _ = s.Instances(ctx, "orders")
	if len(set.Instances) != 1 || !set.Instances[0].LastHeartbeat.Equal(hb.LastHeartbeat) {
		t.Fatalf("got %+v after reopen, want i-1 with heartbeat %v", set.Instances, hb.LastHeartbeat)
	}
}

func TestOpenLockedFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := bbolt.Open(path, bbolt.Options{LockTimeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming %s", err, path)
	}
}

// After a reopen the store compares heartbeats with what the file holds: a plain one
// changes only the time, one with a new version is written and seen by watchers.
func TestHeartbeatAfterReopenComparesWithFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	in := storetest.Instance("orders", "i-1")
	if _, err := s.PutInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, _ := s.Instances(ctx, "orders")
	if _, err := s.HeartbeatInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	if set, _ := s.Instances(ctx, "orders"); set.Index != before.Index {
		t.Fatalf("got index %d after a plain heartbeat, want %d unchanged", set.Index, before.Index)
	}
	in.Version = "2.0.0"
	if _, err := s.HeartbeatInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetInstance(ctx, "orders", "i-1")
	if err != nil || got.Version != "2.0.0" {
		t.Fatalf("got version %q, %v, want 2.0.0 written", got.Version, err)
	}
	if set, _ := s.Instances(ctx, "orders"); set.Index <= before.Index {
		t.Fatalf("got index %d after a changed heartbeat, want more than %d", set.Index, before.Index)
	}
}

// TestRestartAfterLongOutage is issue #15's case: TTL 9 s, the catalog down for 27 s
// (3 TTLs, past TTL + grace) and restarted on the same file. The instances are listed
// critical at once, the first sweeps remove none, the one that heartbeats within a TTL
// of the restart is passing again and the dead one goes one TTL after the restart.
func TestRestartAfterLongOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "catalog.db")
		s, err := bbolt.Open(path, bbolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if _, err := s.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"live", "dead"} {
			in := storetest.Instance("orders", id)
			in.TTLSeconds = 9
			if _, err := s.PutInstance(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(27 * time.Second) // SIGKILLed or not, nobody heartbeats
		s, err = bbolt.Open(path, bbolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		list := func() map[string]catalog.Instance {
			set, err := s.Instances(ctx, "orders")
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]catalog.Instance{}
			for _, in := range set.Instances {
				out[in.ID] = in
			}
			return out
		}
		for step := range 8 { // every second of the first 8, sweeps included
			got := list()
			if len(got) != 2 {
				t.Fatalf("%d s after the restart: got %d instances, want both still listed", step, len(got))
			}
			for id, in := range got {
				if in.Status == catalog.StatusPassing || !in.Expired {
					t.Fatalf("%d s after the restart: got %s %s expired %v, want critical expired", step, id, in.Status, in.Expired)
				}
			}
			time.Sleep(time.Second)
		}
		live := storetest.Instance("orders", "live")
		live.TTLSeconds = 9
		if in, err := s.HeartbeatInstance(ctx, live); err != nil || in.Status != catalog.StatusPassing {
			t.Fatalf("heartbeat 8 s after the restart: got %s, %v, want passing, nil", in.Status, err)
		}
		time.Sleep(2500 * time.Millisecond) // one TTL after the restart and a sweep
		got := list()
		if _, ok := got["dead"]; ok || len(got) != 1 || got["live"].Status != catalog.StatusPassing {
			t.Fatalf("10.5 s after the restart: got %+v, want live passing alone", got)
		}
	})
}
