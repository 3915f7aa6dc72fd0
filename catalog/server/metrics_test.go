package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
	"github.com/paved-road/paved/internal/testenv"
)

// value returns the value of one series of a family (a counter, gauge or, for a
// histogram, its sample count); labels are name=value pairs.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no %s%v in the registry", name, labels)
	return 0
}

// TestCatalogMetrics: each paved_catalog_* family counts what it says, read back from
// the registry the server was given.
func TestCatalogMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDirect(t, server.Limits{})
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error, 1)
		go func() { ran <- d.h.(*server.Server).Run(ctx) }()
		const c = "192.0.2.1"
		path := "/api/v1/components/orders/instances/"

		want(t, d.call(c, "PUT", "/api/v1/components/orders", tokenA, "", storetest.Component("orders", "team-a")), 201, "component")
		for i := range 3 {
			in := instance30("orders", fmt.Sprintf("i-%d", i))
			in.TTLSeconds = 2
			want(t, d.call(c, "PUT", path+in.ID, tokenA, "", in), 200, "register")
		}
		want(t, d.call(c, "PUT", path+"i-0", tokenA, "*", storetest.Instance("orders", "i-0")), 200, "heartbeat")
		want(t, d.call(c, "PUT", path+"i-9", tokenA, "*", storetest.Instance("orders", "i-9")), 412, "heartbeat of an unknown instance")
		want(t, d.call(c, "PUT", "/api/v1/components/nope/instances/i-9", tokenA, "*", storetest.Instance("nope", "i-9")), 412, "heartbeat of an unknown component")
		want(t, d.call(c, "DELETE", path+"i-1", tokenA, "", nil), 204, "deregister")
		want(t, d.call(c, "DELETE", path+"i-2", "", "", nil), 401, "no token")
		want(t, d.call(c, "DELETE", path+"i-2", tokenB, "", nil), 403, "other team")
		want(t, d.call(c, "PUT", "/api/v1/components/orders", tokenA, "", `{"name":`), 400, "bad body")

		checks := []struct {
			name   string
			labels []string
			want   float64
		}{
			{server.MetricComponents, nil, 1},
			{server.MetricInstances, []string{"status", "passing"}, 2},
			{server.MetricInstances, []string{"status", "critical"}, 0},
			{server.MetricRegistrations, nil, 3},
			{server.MetricHeartbeats, []string{"result", "ok"}, 1},
			{server.MetricHeartbeats, []string{"result", "unknown"}, 2},
			{server.MetricDeregistrations, nil, 1},
			{server.MetricRefused, []string{"reason", "unauthenticated"}, 1},
			{server.MetricRefused, []string{"reason", "forbidden"}, 1},
			{server.MetricRefused, []string{"reason", "bad_request"}, 1},
			{server.MetricRefused, []string{"reason", "precondition_failed"}, 2},
			{server.MetricStoreDuration, []string{"operation", "put_instance"}, 3},
			{server.MetricStoreDuration, []string{"operation", "delete_instance"}, 1},
			{server.MetricWatchClients, nil, 0},
			{server.MetricExpirations, nil, 0},
		}
		for _, ck := range checks {
			if got := value(t, d.reg, ck.name, ck.labels...); got != ck.want {
				t.Errorf("%s%v: got %v, want %v", ck.name, ck.labels, got, ck.want)
			}
		}

		// A long poll in flight is a watch client until the set changes.
		list := d.call(c, "GET", "/api/v1/components/orders/instances", "", "", nil)
		want(t, list, 200, "list")
		polled := make(chan int, 1)
		go func() {
			polled <- d.call(c, "GET", "/api/v1/components/orders/instances?wait=1m&index="+list.Header().Get(server.IndexHeader), "", "", nil).Code
		}()
		synctest.Wait()
		if got := value(t, d.reg, server.MetricWatchClients); got != 1 {
			t.Errorf("watch clients during a long poll: got %v, want 1", got)
		}

		// The two instances left expire at 2 s (no heartbeat), and are removed at 4 s:
		// each expiry is counted once, whenever the watcher reads.
		time.Sleep(3500 * time.Millisecond)
		if got := <-polled; got != 200 {
			t.Errorf("long poll: got %d, want 200", got)
		}
		if got := value(t, d.reg, server.MetricWatchClients); got != 0 {
			t.Errorf("watch clients after the long poll: got %v, want 0", got)
		}
		if got := value(t, d.reg, server.MetricExpirations); got != 2 {
			t.Errorf("expirations: got %v, want 2", got)
		}
		if got := value(t, d.reg, server.MetricInstances, "status", "critical"); got != 2 {
			t.Errorf("critical instances: got %v, want 2", got)
		}
		// A heartbeat revives one; it expires again: counted again.
		in := storetest.Instance("orders", "i-0")
		in.TTLSeconds = 2
		want(t, d.call(c, "PUT", path+"i-0", tokenA, "*", in), 200, "heartbeat after expiry")
		time.Sleep(100 * time.Millisecond)
		if got := value(t, d.reg, server.MetricInstances, "status", "passing"); got != 1 {
			t.Errorf("passing instances after a revival: got %v, want 1", got)
		}
		time.Sleep(3 * time.Second)
		if got := value(t, d.reg, server.MetricExpirations); got != 3 {
			t.Errorf("expirations after the second expiry: got %v, want 3", got)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
		_ = d.st.Close()
	})
}

// TestRunWithoutRegistererWaits: without metrics Run only waits for its context, as a
// service member must.
func TestRunWithoutRegistererWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Options{})
		s := server.New(st, server.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error, 1)
		go func() { ran <- s.Run(ctx) }()
		time.Sleep(time.Hour)
		select {
		case err := <-ran:
			t.Fatalf("Run returned %v before its context ended", err)
		default:
		}
		cancel()
		if err := <-ran; err != nil {
			t.Fatalf("Run: got %v, want nil", err)
		}
		_ = st.Close()
	})
}

// TestCatalogMetricsPassPromtool runs `promtool check metrics` (PAVED_TEST_PROMTOOL) on
// the catalog's metrics, with every family holding series.
func TestCatalogMetricsPassPromtool(t *testing.T) {
	d := newDirect(t, server.DefaultLimits())
	want(t, d.call("192.0.2.1", "PUT", "/api/v1/components/orders", tokenA, "", storetest.Component("orders", "team-a")), 201, "component")
	want(t, d.call("192.0.2.1", "PUT", "/api/v1/components/orders/instances/i-1", tokenA, "", storetest.Instance("orders", "i-1")), 200, "register")
	text := testenv.Exposition(t, d.reg)
	for _, name := range []string{server.MetricComponents, server.MetricInstances, server.MetricRegistrations, server.MetricHeartbeats,
		server.MetricDeregistrations, server.MetricExpirations, server.MetricWatchClients, server.MetricStoreDuration,
		server.MetricRefused, server.MetricLimiterEntries} {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("the exposition has no %s", name)
		}
	}
	testenv.Promtool(t, text)
}

// TestRegistererTakenTwicePanics: a registry given to two servers is a programming
// error New reports at once.
func TestRegistererTakenTwicePanics(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	reg := prometheus.NewRegistry()
	server.New(st, server.Options{Registerer: reg})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "paved_catalog_") {
			t.Fatalf("got panic %v, want one naming the metric", r)
		}
	}()
	server.New(st, server.Options{Registerer: reg})
}
