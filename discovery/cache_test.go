package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	kitlog "github.com/go-kit/log"

	"github.com/paved-road/paved/discovery"
)

func inst(id string, s discovery.Status) discovery.Instance {
	return discovery.Instance{
		ID: id, Service: "inventory", Version: "1",
		Addresses: discovery.Addresses{HTTP: "127.0.0.1:" + id, GRPC: "127.0.0.2:" + id},
		Status:    s,
	}
}

func TestCachePassesOnlyReady(t *testing.T) {
	all := []discovery.Instance{inst("8003", discovery.StatusWarning), inst("8001", discovery.StatusPassing), inst("8002", discovery.StatusCritical)}
	for _, tc := range []struct {
		name string
		opts []discovery.CacheOption
		want []string
		sd   []string
	}{
		{"default", nil, []string{"8001"}, []string{"127.0.0.1:8001"}},
		{"warning allowed", []discovery.CacheOption{discovery.AllowWarning(true)}, []string{"8001", "8003"}, []string{"127.0.0.1:8001", "127.0.0.1:8003"}},
		{"grpc addresses", []discovery.CacheOption{discovery.WithAddressKind(discovery.KindGRPC)}, []string{"8001"}, []string{"127.0.0.2:8001"}},
	} {
		c := discovery.NewCache(tc.opts...)
		c.Update(all, nil)
		got, err := c.Instances()
		if ids := idsOf(got); !slices.Equal(ids, tc.want) || err != nil {
			t.Errorf("%s: Instances: got %v, %v, want %v, nil", tc.name, ids, err, tc.want)
		}
		ch := make(chan sd.Event, 1)
		c.Register(ch)
		if e := <-ch; !slices.Equal(e.Instances, tc.sd) {
			t.Errorf("%s: sd.Event: got %v, want %v", tc.name, e.Instances, tc.sd)
		}
		c.Deregister(ch)
	}
}

func idsOf(insts []discovery.Instance) []string {
	var out []string
	for _, in := range insts {
		out = append(out, in.ID)
	}
	return out
}

func TestCacheKeepsLastKnownSetOnError(t *testing.T) {
	c := discovery.NewCache()
	c.Update([]discovery.Instance{inst("8001", discovery.StatusPassing)}, nil)
	events, cancel := c.Subscribe()
	defer cancel()
	<-events
	unreachable := errors.New("registry unreachable")
	c.Update(nil, unreachable)
	e := <-events
	if !errors.Is(e.Err, unreachable) || !slices.Equal(idsOf(e.Instances), []string{"8001"}) {
		t.Errorf("event on error: got %v (err %v), want [8001] with the error", idsOf(e.Instances), e.Err)
	}
	ch := make(chan sd.Event, 1)
	c.Register(ch)
	if e := <-ch; !errors.Is(e.Err, unreachable) || len(e.Instances) != 1 {
		t.Errorf("sd.Event on error: got %v (err %v), want the last known set with the error", e.Instances, e.Err)
	}
	c.Deregister(ch)
	c.Update(nil, nil) // the registry answers again: an empty set
	if got, err := c.Instances(); len(got) != 0 || err != nil {
		t.Errorf("after recovery: got %v, %v, want none, nil", idsOf(got), err)
	}
}

func TestCacheSubscribersGetLatestWithoutBlocking(t *testing.T) {
	c := discovery.NewCache()
	events, cancel := c.Subscribe()
	if e := <-events; len(e.Instances) != 0 {
		t.Errorf("first event: got %v, want empty", idsOf(e.Instances))
	}
	// Nobody reads: updates must not block, and the reader gets only the latest.
	for i := range 100 {
		c.Update([]discovery.Instance{inst(fmt.Sprint(8000+i), discovery.StatusPassing)}, nil)
	}
	if e := <-events; !slices.Equal(idsOf(e.Instances), []string{"8099"}) {
		t.Errorf("after 100 updates: got %v, want [8099]", idsOf(e.Instances))
	}
	// No event for an unchanged set.
	c.Update([]discovery.Instance{inst("8099", discovery.StatusPassing), inst("8100", discovery.StatusCritical)}, nil)
	select {
	case e := <-events:
		t.Errorf("unchanged ready set: got event %v, want none", idsOf(e.Instances))
	default:
	}
	cancel()
	if _, ok := <-events; ok {
		t.Errorf("after cancel: channel open, want closed")
	}
	cancel() // twice is fine
}

func TestCacheStopClosesSubscriptions(t *testing.T) {
	c := discovery.NewCache()
	events, _ := c.Subscribe()
	<-events
	c.Stop()
	if _, ok := <-events; ok {
		t.Errorf("after Stop: channel open, want closed")
	}
	c.Update([]discovery.Instance{inst("8001", discovery.StatusPassing)}, nil)
	if got, _ := c.Instances(); len(got) != 0 {
		t.Errorf("Update after Stop: got %v, want ignored", idsOf(got))
	}
	late, _ := c.Subscribe()
	<-late
	if _, ok := <-late; ok {
		t.Errorf("Subscribe after Stop: channel open, want closed after the last state")
	}
}

func TestCacheCopiesInstances(t *testing.T) {
	c := discovery.NewCache()
	in := inst("8001", discovery.StatusPassing)
	in.Metadata = map[string]string{"zone": "a"}
	c.Update([]discovery.Instance{in}, nil)
	in.Metadata["zone"] = "changed"
	got, _ := c.Instances()
	got[0].Metadata["zone"] = "changed too"
	again, _ := c.Instances()
	if again[0].Metadata["zone"] != "a" {
		t.Errorf("metadata: got %q, want a (the cache must copy)", again[0].Metadata["zone"])
	}
}

// TestCacheWithGoKitEndpointer: go-kit's sd.NewEndpointer and lb run on the cache and
// follow its changes.
func TestCacheWithGoKitEndpointer(t *testing.T) {
	c := discovery.NewCache()
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		return func(context.Context, any) (any, error) { return instance, nil }, nil, nil
	}
	e := sd.NewEndpointer(c, factory, kitlog.NewNopLogger())
	defer e.Close()
	c.Update([]discovery.Instance{inst("8001", discovery.StatusPassing), inst("8002", discovery.StatusPassing)}, nil)
	waitEndpoints(t, e, 2)
	c.Update([]discovery.Instance{inst("8001", discovery.StatusPassing), inst("8002", discovery.StatusCritical)}, nil)
	waitEndpoints(t, e, 1)
	ep, err := lb.NewRoundRobin(e).Endpoint()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ep(context.Background(), nil); got != "127.0.0.1:8001" {
		t.Errorf("endpoint: got %v, want 127.0.0.1:8001", got)
	}
	// The registry becomes unreachable: go-kit keeps the endpoints.
	c.Update(nil, errors.New("unreachable"))
	if eps, _ := e.Endpoints(); len(eps) != 1 {
		t.Errorf("endpoints while unreachable: got %d, want 1", len(eps))
	}
}

func waitEndpoints(t *testing.T, e *sd.DefaultEndpointer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		eps, err := e.Endpoints()
		if err == nil && len(eps) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoints: got %d (err %v), want %d", len(eps), err, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkCacheUpdate(b *testing.B) {
	all := make([]discovery.Instance, 50)
	for i := range all {
		all[i] = inst(fmt.Sprint(8000+i), discovery.StatusPassing)
	}
	c := discovery.NewCache()
	events, cancel := c.Subscribe()
	defer cancel()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		all[i%50].Status = discovery.StatusCritical // a change every time
		c.Update(all, nil)
		all[i%50].Status = discovery.StatusPassing
		<-events
	}
}

func BenchmarkCacheInstances(b *testing.B) {
	all := make([]discovery.Instance, 50)
	for i := range all {
		all[i] = inst(fmt.Sprint(8000+i), discovery.StatusPassing)
	}
	c := discovery.NewCache()
	c.Update(all, nil)
	b.ReportAllocs()
	for b.Loop() {
		c.Instances()
	}
}
