package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Harness makes stores for the suite.
type Harness struct {
	// New returns an empty store whose grace period is grace. The suite closes it.
	New func(t *testing.T, grace time.Duration) store.Store
	// Synctest runs each case in a testing/synctest bubble: the store and everything it
	// starts must live inside it and stop on Close.
	Synctest bool
	// Reopen returns a new store over the data of s, which the suite has closed: what a
	// catalog restarted on the same data dir (bbolt) or etcd cluster opens. The suite
	// closes the new store. Nil for a store that keeps nothing across a restart
	// (memory): the restart case is then skipped.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// ttl and grace of the instances in the TTL cases.
const (
	ttlSeconds = 2
	grace      = 2 * time.Second
)

type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs every conformance case as a subtest of t.
func Run(t *testing.T, h Harness) {
	cases := []testCase{
		{"ComponentCRUD", testComponentCRUD},
		{"ComponentInvalidWritesNothing", testComponentInvalid},
		{"ListComponentsFilter", testListComponents},
		{"InstanceNeedsComponent", testInstanceNeedsComponent},
		{"RegisterHeartbeatDeregister", testRegisterHeartbeatDeregister},
		{"InstanceInvalidWritesNothing", testInstanceInvalid},
		{"GetInstance", testGetInstance},
		{"HeartbeatNeedsInstance", testHeartbeatNeedsInstance},
		{"HeartbeatRacingDeregisterNeverRecreates", testHeartbeatRace},
		{"WatchOldIndexReturnsAtOnce", testWatchOldIndex},
		{"WatchFutureIndexReturnsAtOnce", testWatchFutureIndex},
		{"WatchBlocksUntilChange", testWatchBlocks},
		{"WatchIgnoresPlainHeartbeat", testWatchIgnoresHeartbeat},
		{"HeartbeatAfterCallerReusesMetadata", testReusedMetadata},
		{"WatchAllComponents", testWatchAll},
		{"WatchEndsOnComponentDelete", testWatchComponentDelete},
		{"TTLExpiryThroughWatch", testTTLExpiry},
		{"HeartbeatRevivesExpired", testRevive},
		{"DeleteComponentCascades", testDeleteCascade},
		{"Scorecards", testScorecards},
		{"TTLChangeKeepsScorecard", testTTLChange},
		{"ConcurrentRegistrations", testConcurrent},
		{"Closed", testClosed},
		{"RestartListsStaleCriticalAndWaitsOneTTL", func(t *testing.T, s store.Store) { testRestart(t, h, s) }},
	}
	cases = append(cases, historyCases()...)
	cases = append(cases, outboxCases(h)...)
	cases = append(cases, apiCases(h)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := func(t *testing.T) {
				s := h.New(t, grace)
				t.Cleanup(func() { _ = s.Close() })
				tc.fn(t, s)
			}
			if h.Synctest {
				synctest.Test(t, body)
			} else {
				body(t)
			}
		})
	}
}

// Component returns a valid component owned by owner.
func Component(name, owner string) catalog.Component {
	return catalog.Component{
		Name: name, Owner: owner, Type: catalog.TypeService, Tier: 2,
		Lifecycle:   catalog.LifecycleProduction,
		Description: "The " + name + " service.",
		Links:       catalog.Links{Runbook: "https://wiki.example.com/" + name},
		Labels:      map[string]string{"domain": "sales"},
	}
}

// Instance returns a valid passing instance of component with a 2 s TTL.
func Instance(component, id string) catalog.Instance {
	return catalog.Instance{
		ID: id, Component: component, Version: "1.0.0",
		Addresses:  catalog.Addresses{HTTP: "127.0.0.1:8080", Admin: "127.0.0.1:9090"},
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		TTLSeconds: ttlSeconds,
		Status:     catalog.StatusPassing,
		Metadata:   map[string]string{"zone": "a"},
	}
}

// must returns a function that fails t when err is not nil, else returns v:
// must(s.Instances(ctx, "orders"))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return v
	}
}

func mustNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("got %v, want an error wrapping store.ErrNotFound", err)
	}
}

func ids(set store.InstanceSet) []string {
	var out []string
	for _, in := range set.Instances {
		out = append(out, in.Component+"/"+in.ID)
	}
	return out
}

func setup(t *testing.T, s store.Store, comps ...string) {
	t.Helper()
	for _, c := range comps {
		must(s.PutComponent(t.Context(), Component(c, "team-a")))(t)
	}
}

func testComponentCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := Component("orders", "team-a")
	if created := must(s.PutComponent(ctx, c))(t); !created {
		t.Fatalf("first put: got created false, want true")
	}
	got := must(s.GetComponent(ctx, "orders"))(t)
	if fmt.Sprint(got) != fmt.Sprint(c) {
		t.Fatalf("got %+v, want %+v", got, c)
	}
	// What a caller does to a value it got does not reach the store.
	got.Labels["mutated"] = "yes"
	got.DependsOn = append(got.DependsOn[:0], "mutated")
	if again := must(s.GetComponent(ctx, "orders"))(t); fmt.Sprint(again) != fmt.Sprint(c) {
		t.Fatalf("got %+v after changing a returned value, want %+v", again, c)
	}
	c.Tier = 1
	c.Owner = "team-b"
	if created := must(s.PutComponent(ctx, c))(t); created {
		t.Fatalf("second put: got created true, want false")
	}
	if got := must(s.GetComponent(ctx, "orders"))(t); got.Tier != 1 || got.Owner != "team-b" {
		t.Fatalf("got tier %d owner %s, want 1 team-b", got.Tier, got.Owner)
	}
	_, err := s.GetComponent(ctx, "nope")
	mustNotFound(t, err)
	if err := s.DeleteComponent(ctx, "orders"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	_, err = s.GetComponent(ctx, "orders")
	mustNotFound(t, err)
	mustNotFound(t, s.DeleteComponent(ctx, "orders"))
}

func testComponentInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := Component("orders", "team-a")
	c.Links.Runbook = "ftp://x"
	_, err := s.PutComponent(ctx, c)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "links.runbook" {
		t.Fatalf("got %v, want a ValidationError on links.runbook", err)
	}
	_, err = s.GetComponent(ctx, "orders")
	mustNotFound(t, err)
	list := must(s.ListComponents(ctx, catalog.ComponentFilter{}))(t)
	if len(list) != 0 {
		t.Fatalf("got %d components, want 0", len(list))
	}
}

func testListComponents(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := Component("payments", "team-a")
	b := Component("orders", "team-b")
	b.Tier = 1
	b.Labels = map[string]string{"domain": "shop"}
	c := Component("inventory", "team-a")
	c.Lifecycle = catalog.LifecycleDeprecated
	c.Description = "Counts STOCK."
	for _, x := range []catalog.Component{a, b, c} {
		must(s.PutComponent(ctx, x))(t)
	}
	names := func(f catalog.ComponentFilter) []string {
		var out []string
		for _, c := range must(s.ListComponents(ctx, f))(t) {
			out = append(out, c.Name)
		}
		return out
	}
	tests := []struct {
		f    catalog.ComponentFilter
		want []string
	}{
		{catalog.ComponentFilter{}, []string{"inventory", "orders", "payments"}},
		{catalog.ComponentFilter{Owner: "team-a"}, []string{"inventory", "payments"}},
		{catalog.ComponentFilter{Tier: 1}, []string{"orders"}},
		{catalog.ComponentFilter{Lifecycle: catalog.LifecycleDeprecated}, []string{"inventory"}},
		{catalog.ComponentFilter{Labels: map[string]string{"domain": "sales"}}, []string{"inventory", "payments"}},
		{catalog.ComponentFilter{Text: "stock"}, []string{"inventory"}},
		{catalog.ComponentFilter{Owner: "team-c"}, nil},
	}
	for _, tt := range tests {
		if got := names(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.f, got, tt.want)
		}
	}
}

func testInstanceNeedsComponent(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.PutInstance(ctx, Instance("orders", "i-1"))
	mustNotFound(t, err)
	_, err = s.Instances(ctx, "orders")
	mustNotFound(t, err)
	all := must(s.Instances(ctx, ""))(t)
	if len(all.Instances) != 0 {
		t.Fatalf("got %v, want no instances", ids(all))
	}
	mustNotFound(t, s.DeleteInstance(ctx, "orders", "i-1"))
}

func testRegisterHeartbeatDeregister(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	before := time.Now()
	in := Instance("orders", "i-1")
	in.LastHeartbeat = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // ignored
	in.Expired = true                                              // ignored
	got := must(s.PutInstance(ctx, in))(t)
	if got.LastHeartbeat.Before(before.Add(-time.Second)) || got.Expired || got.Status != catalog.StatusPassing {
		t.Fatalf("got lastHeartbeat %v expired %v status %s, want about now, false, passing", got.LastHeartbeat, got.Expired, got.Status)
	}
	set := must(s.Instances(ctx, "orders"))(t)
	if len(set.Instances) != 1 || set.Index == 0 {
		t.Fatalf("got %v at index %d, want [orders/i-1] at an index > 0", ids(set), set.Index)
	}
	if g := set.Instances[0]; g.Version != in.Version || g.Addresses != in.Addresses || !g.StartedAt.Equal(in.StartedAt) ||
		g.TTLSeconds != in.TTLSeconds || g.Metadata["zone"] != "a" || !g.LastHeartbeat.Equal(got.LastHeartbeat) {
		t.Fatalf("got %+v, want %+v with lastHeartbeat %v", g, in, got.LastHeartbeat)
	}
	time.Sleep(20 * time.Millisecond)
	hb := must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	if !hb.LastHeartbeat.After(got.LastHeartbeat) {
		t.Fatalf("got heartbeat at %v, want after %v", hb.LastHeartbeat, got.LastHeartbeat)
	}
	must(s.PutInstance(ctx, Instance("orders", "i-0")))(t)
	set = must(s.Instances(ctx, "orders"))(t)
	if want := []string{"orders/i-0", "orders/i-1"}; !slices.Equal(ids(set), want) {
		t.Fatalf("got %v, want %v", ids(set), want)
	}
	if err := s.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	mustNotFound(t, s.DeleteInstance(ctx, "orders", "i-1"))
	set2 := must(s.Instances(ctx, "orders"))(t)
	if want := []string{"orders/i-0"}; !slices.Equal(ids(set2), want) || set2.Index <= set.Index {
		t.Fatalf("got %v at %d, want %v at an index > %d", ids(set2), set2.Index, want, set.Index)
	}
}

func testInstanceInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	in := Instance("orders", "i-1")
	in.Addresses.Admin = "169.254.169.254:80"
	in.TTLSeconds = 0
	_, err := s.PutInstance(ctx, in)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Fatalf("got %v, want a ValidationError with 2 problems", err)
	}
	set := must(s.Instances(ctx, "orders"))(t)
	if len(set.Instances) != 0 {
		t.Fatalf("got %v, want nothing written", ids(set))
	}
}

func testGetInstance(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	_, err := s.GetInstance(ctx, "orders", "i-1")
	mustNotFound(t, err)
	_, err = s.GetInstance(ctx, "nope", "i-1")
	mustNotFound(t, err)
	put := must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	must(s.PutInstance(ctx, Instance("orders", "i-10")))(t)
	got := must(s.GetInstance(ctx, "orders", "i-1"))(t)
	if got.ID != "i-1" || got.Component != "orders" || got.Version != "1.0.0" || got.Status != catalog.StatusPassing ||
		!got.LastHeartbeat.Equal(put.LastHeartbeat) || got.Metadata["zone"] != "a" {
		t.Fatalf("got %+v, want %+v", got, put)
	}
	time.Sleep(20 * time.Millisecond)
	hb := must(s.HeartbeatInstance(ctx, Instance("orders", "i-1")))(t)
	if got := must(s.GetInstance(ctx, "orders", "i-1"))(t); !got.LastHeartbeat.Equal(hb.LastHeartbeat) {
		t.Fatalf("got lastHeartbeat %v after a heartbeat, want %v", got.LastHeartbeat, hb.LastHeartbeat)
	}
	if err := s.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	_, err = s.GetInstance(ctx, "orders", "i-1")
	mustNotFound(t, err)
	if got := must(s.GetInstance(ctx, "orders", "i-10"))(t); got.ID != "i-10" {
		t.Fatalf("got %q, want i-10", got.ID)
	}
}

func testHeartbeatNeedsInstance(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	// Never registered, and a component that does not exist: nothing is written.
	_, err := s.HeartbeatInstance(ctx, Instance("orders", "i-1"))
	mustNotFound(t, err)
	_, err = s.HeartbeatInstance(ctx, Instance("nope", "i-1"))
	mustNotFound(t, err)
	if set := must(s.Instances(ctx, "orders"))(t); len(set.Instances) != 0 {
		t.Fatalf("got %v after a heartbeat of an unknown instance, want none", ids(set))
	}
	// Registered: a heartbeat updates it, including a status change.
	reg := must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	time.Sleep(20 * time.Millisecond)
	in := Instance("orders", "i-1")
	in.Status = catalog.StatusCritical
	hb := must(s.HeartbeatInstance(ctx, in))(t)
	if !hb.LastHeartbeat.After(reg.LastHeartbeat) || hb.Status != catalog.StatusCritical {
		t.Fatalf("got lastHeartbeat %v status %s, want after %v and critical", hb.LastHeartbeat, hb.Status, reg.LastHeartbeat)
	}
	// Deregistered: the heartbeat fails and does not re-create it.
	if err := s.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	_, err = s.HeartbeatInstance(ctx, Instance("orders", "i-1"))
	mustNotFound(t, err)
	_, err = s.GetInstance(ctx, "orders", "i-1")
	mustNotFound(t, err)
	// Invalid input is rejected as by PutInstance.
	bad := Instance("orders", "i-2")
	bad.TTLSeconds = 0
	var ve *catalog.ValidationError
	if _, err := s.HeartbeatInstance(ctx, bad); !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
}

// testHeartbeatRace heartbeats an instance from several goroutines while it is
// deregistered: once DeleteInstance has returned and the heartbeats in flight have
// finished, the instance must be gone (a check-then-put would re-create it).
func testHeartbeatRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	for round := range 5 {
		must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
		var wg sync.WaitGroup
		var once sync.Once
		beating := make(chan struct{}) // closed once heartbeats are under way
		for range 4 {
			wg.Go(func() {
				for range 500 {
					if _, err := s.HeartbeatInstance(ctx, Instance("orders", "i-1")); errors.Is(err, store.ErrNotFound) {
						return
					} else if err != nil {
						t.Errorf("round %d: heartbeat: got %v, want nil or ErrNotFound", round, err)
						return
					}
					once.Do(func() { close(beating) })
				}
			})
		}
		<-beating
		if err := s.DeleteInstance(ctx, "orders", "i-1"); err != nil {
			t.Fatalf("round %d: got %v, want nil", round, err)
		}
		wg.Wait()
		if in, err := s.GetInstance(ctx, "orders", "i-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: after deregistration and concurrent heartbeats: got %+v, %v, want ErrNotFound", round, in, err)
		}
	}
}

// watch runs Watch in a goroutine and returns a function that waits for its result.
func watch(ctx context.Context, s store.Store, comp string, after uint64) func() (store.InstanceSet, error) {
	type result struct {
		set store.InstanceSet
		err error
	}
	ch := make(chan result, 1)
	go func() {
		set, err := s.Watch(ctx, comp, after)
		ch <- result{set, err}
	}()
	return func() (store.InstanceSet, error) {
		r := <-ch
		return r.set, r.err
	}
}

func testWatchOldIndex(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	setup(t, s, "orders")
	set0 := must(s.Instances(ctx, "orders"))(t)
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Watch(ctx, "orders", set0.Index))(t)
	if !slices.Equal(ids(set), []string{"orders/i-1"}) || set.Index <= set0.Index {
		t.Fatalf("got %v at %d, want [orders/i-1] at an index > %d", ids(set), set.Index, set0.Index)
	}
	set = must(s.Watch(ctx, "orders", 0))(t)
	if !slices.Equal(ids(set), []string{"orders/i-1"}) {
		t.Fatalf("index 0: got %v, want [orders/i-1]", ids(set))
	}
	_, err := s.Watch(ctx, "nope", 0)
	mustNotFound(t, err)
}

func testWatchFutureIndex(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)
	got, err := s.Watch(ctx, "orders", set.Index+1_000_000)
	if err != nil || !slices.Equal(ids(got), []string{"orders/i-1"}) {
		t.Fatalf("got %v, %v, want [orders/i-1] at once", ids(got), err)
	}
}

func testWatchBlocks(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)

	// A watch at the current index blocks until its context ends.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := s.Watch(short, "orders", set.Index)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}

	wait := watch(ctx, s, "orders", set.Index)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	must(s.PutInstance(ctx, Instance("orders", "i-2")))(t)
	got, err := wait()
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("got the change after %v, want within 1s", d)
	}
	if want := []string{"orders/i-1", "orders/i-2"}; !slices.Equal(ids(got), want) || got.Index <= set.Index {
		t.Fatalf("got %v at %d, want %v at an index > %d", ids(got), got.Index, want, set.Index)
	}

	// Changing the status is a change; so is deregistering.
	wait = watch(ctx, s, "orders", got.Index)
	in := Instance("orders", "i-1")
	in.Status = catalog.StatusWarning
	must(s.PutInstance(ctx, in))(t)
	got2, err := wait()
	if err != nil || got2.Instances[0].Status != catalog.StatusWarning {
		t.Fatalf("got %+v, %v, want i-1 warning", got2.Instances, err)
	}
	wait = watch(ctx, s, "orders", got2.Index)
	if err := s.DeleteInstance(ctx, "orders", "i-2"); err != nil {
		t.Fatal(err)
	}
	got3, err := wait()
	if err != nil || !slices.Equal(ids(got3), []string{"orders/i-1"}) {
		t.Fatalf("got %v, %v, want [orders/i-1]", ids(got3), err)
	}
}

func testWatchIgnoresHeartbeat(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders", "billing")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	wait := watch(short, s, "orders", set.Index)
	time.Sleep(50 * time.Millisecond)
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)      // heartbeat, nothing changed
	must(s.PutComponent(ctx, Component("orders", "team-b")))(t) // not an instance change
	must(s.PutInstance(ctx, Instance("billing", "b-1")))(t)     // another component
	if got, err := wait(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, %v, want context.DeadlineExceeded", ids(got), err)
	}
}

// A caller that changes the metadata map it registered with and heartbeats with it has
// the change stored: the store keeps no reference to the caller's map.
func testReusedMetadata(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	in := Instance("orders", "i-1")
	must(s.PutInstance(ctx, in))(t)
	must(s.HeartbeatInstance(ctx, in))(t)
	in.Metadata["zone"] = "b"
	must(s.HeartbeatInstance(ctx, in))(t)
	if got := must(s.GetInstance(ctx, "orders", "i-1"))(t); got.Metadata["zone"] != "b" {
		t.Fatalf("got zone %q, want b", got.Metadata["zone"])
	}
}

func testWatchAll(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	setup(t, s, "orders", "billing")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, ""))(t)
	wait := watch(ctx, s, "", set.Index)
	time.Sleep(50 * time.Millisecond)
	must(s.PutInstance(ctx, Instance("billing", "b-1")))(t)
	got, err := wait()
	if want := []string{"billing/b-1", "orders/i-1"}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("got %v, %v, want %v", ids(got), err, want)
	}
}

func testWatchComponentDelete(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)
	wait := watch(ctx, s, "orders", set.Index)
	time.Sleep(50 * time.Millisecond)
	if err := s.DeleteComponent(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	_, err := wait()
	mustNotFound(t, err)
}

// waitFor watches comp until cond holds for the set, or fails after limit.
func waitFor(t *testing.T, s store.Store, comp string, after uint64, limit time.Duration, cond func(store.InstanceSet) bool) store.InstanceSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	for {
		set, err := s.Watch(ctx, comp, after)
		if err != nil {
			t.Fatalf("waiting for the set to change: got %v, want nil", err)
		}
		if cond(set) {
			return set
		}
		after = set.Index
	}
}

func testTTLExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	start := time.Now()
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)
	ttl := ttlSeconds * time.Second

	expired := waitFor(t, s, "orders", set.Index, ttl+grace+5*time.Second, func(set store.InstanceSet) bool {
		return len(set.Instances) == 0 || set.Instances[0].Expired
	})
	if len(expired.Instances) != 1 {
		t.Fatalf("got %v, want i-1 still listed as critical during the grace period", ids(expired))
	}
	if in := expired.Instances[0]; in.Status != catalog.StatusCritical || !in.Expired {
		t.Fatalf("got status %s expired %v, want critical true", in.Status, in.Expired)
	}
	if d := time.Since(start); d < ttl-100*time.Millisecond {
		t.Fatalf("got expiry after %v, want no sooner than the TTL %v", d, ttl)
	}
	gone := waitFor(t, s, "orders", expired.Index, grace+5*time.Second, func(set store.InstanceSet) bool {
		return len(set.Instances) == 0
	})
	if d := time.Since(start); d < ttl+grace-100*time.Millisecond {
		t.Fatalf("got removal after %v, want no sooner than TTL + grace %v", d, ttl+grace)
	}
	if gone.Index <= expired.Index {
		t.Fatalf("got index %d, want > %d", gone.Index, expired.Index)
	}
}

func testRevive(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	set := must(s.Instances(ctx, "orders"))(t)
	expired := waitFor(t, s, "orders", set.Index, ttlSeconds*time.Second+grace+5*time.Second, func(set store.InstanceSet) bool {
		return len(set.Instances) == 1 && set.Instances[0].Expired
	})
	wait := watch(ctx, s, "orders", expired.Index)
	// An agent's heartbeat (not a new registration) revives it: it still exists.
	in := must(s.HeartbeatInstance(ctx, Instance("orders", "i-1")))(t)
	if in.Expired || in.Status != catalog.StatusPassing {
		t.Fatalf("got expired %v status %s, want false passing", in.Expired, in.Status)
	}
	got, err := wait()
	if err != nil || len(got.Instances) != 1 || got.Instances[0].Expired || got.Instances[0].Status != catalog.StatusPassing {
		t.Fatalf("got %+v, %v, want i-1 passing again", got.Instances, err)
	}
}

func testDeleteCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders", "billing")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	must(s.PutInstance(ctx, Instance("billing", "b-1")))(t)
	if err := s.PutScorecard(ctx, catalog.Scorecard{Component: "orders", Instance: "i-1", RuleSetVersion: "1", Score: 50}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteComponent(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	all := must(s.Instances(ctx, ""))(t)
	if want := []string{"billing/b-1"}; !slices.Equal(ids(all), want) {
		t.Fatalf("got %v, want %v", ids(all), want)
	}
	// Re-creating the component does not bring back its instances or scorecards.
	setup(t, s, "orders")
	if set := must(s.Instances(ctx, "orders"))(t); len(set.Instances) != 0 {
		t.Fatalf("got %v, want none", ids(set))
	}
	if sc := must(s.Scorecard(ctx, "orders"))(t); len(sc.Instances) != 0 || sc.Score != -1 {
		t.Fatalf("got %+v, want no scorecards and score -1", sc)
	}
}

func testScorecards(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	card := func(id string, score int) catalog.Scorecard {
		return catalog.Scorecard{
			Component: "orders", Instance: id, RuleSetVersion: "2026.1", Score: score,
			Passed: []string{"owner"},
			Failed: []catalog.RuleResult{{ID: "runbook", Level: catalog.LevelWarning, Message: "no runbook"}},
		}
	}
	mustNotFound(t, s.PutScorecard(ctx, card("i-1", 80)))
	_, err := s.Scorecard(ctx, "nope")
	mustNotFound(t, err)
	bad := card("i-1", 101)
	var ve *catalog.ValidationError
	if err := s.PutScorecard(ctx, bad); !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	must(s.PutInstance(ctx, Instance("orders", "i-2")))(t)
	for _, c := range []catalog.Scorecard{card("i-1", 90), card("i-2", 60), card("i-1", 70)} {
		if err := s.PutScorecard(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	sc := must(s.Scorecard(ctx, "orders"))(t)
	if sc.Component != "orders" || sc.Score != 60 || len(sc.Instances) != 2 {
		t.Fatalf("got %+v, want 2 cards and score 60", sc)
	}
	if c := sc.Instances[0]; c.Instance != "i-1" || c.Score != 70 || c.ReportedAt.IsZero() ||
		len(c.Failed) != 1 || c.Failed[0] != card("i-1", 0).Failed[0] || !slices.Equal(c.Passed, []string{"owner"}) {
		t.Fatalf("got %+v, want i-1's latest card (score 70) with reportedAt set", c)
	}
	if err := s.DeleteInstance(ctx, "orders", "i-2"); err != nil {
		t.Fatal(err)
	}
	sc = must(s.Scorecard(ctx, "orders"))(t)
	if len(sc.Instances) != 1 || sc.Score != 70 {
		t.Fatalf("got %+v, want only i-1's card and score 70", sc)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 10 {
		wg.Go(func() {
			for i := range 5 {
				in := Instance("orders", fmt.Sprintf("g%d-i%d", g, i))
				in.TTLSeconds = 3600
				if _, err := s.PutInstance(ctx, in); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("got %v, want nil", err)
	}
	if set := must(s.Instances(ctx, "orders"))(t); len(set.Instances) != 50 {
		t.Fatalf("got %d instances, want 50", len(set.Instances))
	}
}

func testClosed(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	set := must(s.Instances(ctx, "orders"))(t)
	wait := watch(ctx, s, "orders", set.Index)
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if _, err := wait(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("blocked watch: got %v, want store.ErrClosed", err)
	}
	if _, err := s.GetComponent(ctx, "orders"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("got %v, want store.ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: got %v, want nil", err)
	}
}

func testTTLChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "i-1")))(t)
	if err := s.PutScorecard(ctx, catalog.Scorecard{Component: "orders", Instance: "i-1", RuleSetVersion: "1", Score: 42}); err != nil {
		t.Fatal(err)
	}
	set := must(s.Instances(ctx, "orders"))(t)
	in := Instance("orders", "i-1")
	in.TTLSeconds = 3600
	must(s.PutInstance(ctx, in))(t)
	got := must(s.Watch(ctx, "orders", set.Index))(t)
	if len(got.Instances) != 1 || got.Instances[0].TTLSeconds != 3600 {
		t.Fatalf("got %+v, want i-1 with a 3600s TTL", got.Instances)
	}
	// Past the old TTL and grace, the instance and its scorecard are still there.
	time.Sleep(ttlSeconds*time.Second + grace + 2*time.Second)
	now := must(s.Instances(ctx, "orders"))(t)
	if len(now.Instances) != 1 || now.Instances[0].Expired {
		t.Fatalf("got %+v, want i-1 alive under its new TTL", now.Instances)
	}
	sc := must(s.Scorecard(ctx, "orders"))(t)
	if len(sc.Instances) != 1 || sc.Score != 42 {
		t.Fatalf("got %+v, want the scorecard kept across the TTL change", sc)
	}
}

// testRestart: the catalog is down longer than the TTL, then restarts on the same data.
// An instance whose last heartbeat is older than its TTL is never listed passing, and
// none is removed before it had one full TTL after the restart to heartbeat again. The
// outage (3 s) is shorter than TTL + grace, so that an etcd cluster keeps the records
// while no catalog runs; store-specific tests cover longer outages.
func testRestart(t *testing.T, h Harness, s store.Store) {
	if h.Reopen == nil {
		t.Skip("the store keeps nothing across a restart")
	}
	ctx := t.Context()
	ttl := ttlSeconds * time.Second
	setup(t, s, "orders")
	must(s.PutInstance(ctx, Instance("orders", "live")))(t)
	must(s.PutInstance(ctx, Instance("orders", "dead")))(t)
	if err := s.Close(); err != nil {
		t.Fatalf("close: got %v, want nil", err)
	}
	time.Sleep(ttl + ttl/2) // the outage
	s = h.Reopen(t, s)
	t.Cleanup(func() { _ = s.Close() })
	reopened := time.Now()

	notPassing := func(when string) {
		t.Helper()
		set := must(s.Instances(ctx, "orders"))(t)
		if want := []string{"orders/dead", "orders/live"}; !slices.Equal(ids(set), want) {
			t.Fatalf("%s: got %v, want %v still listed", when, ids(set), want)
		}
		for _, in := range set.Instances {
			if in.Status == catalog.StatusPassing || !in.Expired {
				t.Fatalf("%s: got %s status %s expired %v, want not passing and expired (its last heartbeat is older than its TTL)", when, in.ID, in.Status, in.Expired)
			}
		}
		if in := must(s.GetInstance(ctx, "orders", "dead"))(t); in.Status == catalog.StatusPassing || !in.Expired {
			t.Fatalf("%s: GetInstance: got status %s expired %v, want not passing and expired", when, in.Status, in.Expired)
		}
	}
	notPassing("right after the restart")
	// Past the first sweeps, short of one TTL after the restart: both are still listed.
	time.Sleep(ttl - 500*time.Millisecond)
	notPassing(fmt.Sprintf("%v after the restart", time.Since(reopened)))

	// The live instance's agent heartbeats (its registration still exists): passing.
	if in := must(s.HeartbeatInstance(ctx, Instance("orders", "live")))(t); in.Status != catalog.StatusPassing || in.Expired {
		t.Fatalf("heartbeat after the restart: got status %s expired %v, want passing false", in.Status, in.Expired)
	}
	set := must(s.Instances(ctx, "orders"))(t)
	gone := waitFor(t, s, "orders", set.Index, ttl+grace+5*time.Second, func(set store.InstanceSet) bool {
		return !slices.Contains(ids(set), "orders/dead")
	})
	if d := time.Since(reopened); d < ttl-100*time.Millisecond {
		t.Fatalf("got the dead instance removed %v after the restart, want no sooner than its TTL %v", d, ttl)
	}
	if want := []string{"orders/live"}; !slices.Equal(ids(gone), want) {
		t.Fatalf("got %v, want %v", ids(gone), want)
	}
}
