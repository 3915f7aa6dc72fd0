package server_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// WaitChange wakes on the writes that are not instances': a component, a scorecard, a
// history written by the fleet tracker; not on an instance's heartbeat. It answers at
// once for a count behind or ahead of the server's, and ends with its context.
func TestWaitChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Options{})
		defer st.Close()
		srv := server.New(st, server.Options{Open: true})
		ctx := context.Background()
		if n := srv.ChangeCount(); n != 0 {
			t.Fatalf("a fresh server counts %d changes, want 0", n)
		}
		// waitFor runs WaitChange(after) while write runs, and returns what it answered.
		waitFor := func(after uint64, write func()) (uint64, bool) {
			t.Helper()
			got := make(chan uint64, 1)
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			go func() {
				n, err := srv.WaitChange(wctx, after)
				if err != nil {
					close(got)
					return
				}
				got <- n
			}()
			synctest.Wait()
			write()
			n, ok := <-got
			return n, ok
		}
		st2 := srv.Store()
		if n, ok := waitFor(0, func() {
			if _, err := st2.PutComponent(ctx, storetest.Component("svc", "team-a")); err != nil {
				t.Fatal(err)
			}
		}); !ok || n != 1 {
			t.Fatalf("a component: got %d, %v; want 1", n, ok)
		}
		// A store write that bypasses the server (another replica) does not count,
		// nor does an instance: WaitChange times out.
		if _, ok := waitFor(1, func() {
			in := storetest.Instance("svc", "i-1")
			in.TTLSeconds = 3600 // the wait passes a minute
			if _, err := st2.PutInstance(ctx, in); err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutComponent(ctx, storetest.Component("other", "team-b")); err != nil {
				t.Fatal(err)
			}
		}); ok {
			t.Fatal("an instance or a write past the server woke WaitChange")
		}
		if n, ok := waitFor(1, func() {
			if err := st2.PutScorecard(ctx, catalog.Scorecard{Component: "svc", Instance: "i-1", RuleSetVersion: "1", Score: 90}); err != nil {
				t.Fatal(err)
			}
		}); !ok || n != 2 {
			t.Fatalf("a scorecard: got %d, %v; want 2", n, ok)
		}
		// The fleet tracker recording a deployment.
		set, err := st.Instances(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := waitFor(2, func() { server.NewTracker(srv).Pass(ctx, set) }); !ok || n != 3 {
			t.Fatalf("an observed deployment: got %d, %v; want 3", n, ok)
		}
		if hs, err := st.Histories(ctx, "svc"); err != nil || len(hs) != 1 || len(hs[0].Deployments) != 1 {
			t.Fatalf("got histories %+v, %v; want one with the deployment", hs, err)
		}
		// An update that writes nothing does not count.
		if _, err := st2.UpdateHistory(ctx, "svc", "unknown", func(*catalog.History) (bool, error) { return false, nil }); err != nil {
			t.Fatal(err)
		}
		if n := srv.ChangeCount(); n != 3 {
			t.Fatalf("after an update writing nothing: %d changes, want 3", n)
		}
		for _, after := range []uint64{0, 2, 99} { // behind, or ahead (another process's count)
			if n, err := srv.WaitChange(ctx, after); err != nil || n != 3 {
				t.Errorf("WaitChange(%d): got %d, %v; want 3 at once", after, n, err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := srv.WaitChange(cctx, 3); !errors.Is(err, context.Canceled) {
			t.Errorf("a cancelled wait: got %v, want context.Canceled", err)
		}
	})
}
