package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/etcd"
	"github.com/paved-road/paved/catalog/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client connects to the etcd named by PAVED_TEST_ETCD_ENDPOINTS (comma-separated). It
// skips the test when the variable is unset, unless PAVED_TEST_REQUIRE_SERVERS=1.
func client(t *testing.T) *clientv3.Client {
	t.Helper()
	eps := os.Getenv("PAVED_TEST_ETCD_ENDPOINTS")
	if eps == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_ETCD_ENDPOINTS is unset and PAVED_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("PAVED_TEST_ETCD_ENDPOINTS is unset: no etcd to test against")
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(eps, ","),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := cli.Get(ctx, "health-check"); err != nil {
		_ = cli.Close()
		t.Fatalf("etcd at %s: got %v, want nil", eps, err)
	}
	return cli
}

var seq atomic.Int64 // distinct prefixes within one run; the pid and time separate runs

// prefix returns a key prefix of its own for one test, deleted when the test ends.
func prefix(t *testing.T, cli *clientv3.Client) string {
	p := fmt.Sprintf("/paved-test/%d-%d-%d/", os.Getpid(), time.Now().UnixNano(), seq.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = cli.Delete(ctx, p, clientv3.WithPrefix())
	})
	return p
}

func TestConformance(t *testing.T) {
	type over struct {
		cli  *clientv3.Client
		opts etcd.Options
	}
	var mu sync.Mutex
	stores := map[store.Store]over{} // each store's client and options, for Reopen
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, grace time.Duration) store.Store {
			cli := client(t)
			t.Cleanup(func() { _ = cli.Close() })
			opts := etcd.Options{Prefix: prefix(t, cli), Grace: grace}
			s, err := etcd.New(cli, opts)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			mu.Lock()
			stores[s] = over{cli, opts}
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			mu.Lock()
			o := stores[s]
			mu.Unlock()
			s2, err := etcd.New(o.cli, o.opts)
			if err != nil {
				t.Fatalf("reopen: got %v, want nil", err)
			}
			return s2
		},
	})
}

// twoCatalogs returns two stores, each with its own client, over one key prefix: two
// catalog processes sharing one etcd. They are closed before their clients when the test
// ends; a's client and the prefix are returned for direct reads.
func twoCatalogs(t *testing.T) (a, b *etcd.Store, cliA *clientv3.Client, p string) {
	t.Helper()
	cliA, cliB := client(t), client(t)
	t.Cleanup(func() { _ = cliA.Close(); _ = cliB.Close() })
	p = prefix(t, cliA)
	var err error
	if a, err = etcd.New(cliA, etcd.Options{Prefix: p}); err != nil {
		t.Fatal(err)
	}
	if b, err = etcd.New(cliB, etcd.Options{Prefix: p}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b, cliA, p
}

// Two catalog processes over one etcd: what one writes, the other lists and watches.
func TestTwoCatalogsShareOneEtcd(t *testing.T) {
	a, b, _, _ := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	set, err := b.Instances(ctx, "orders")
	if err != nil {
		t.Fatalf("b sees a's component: got %v, want nil", err)
	}
	done := make(chan store.InstanceSet, 1)
	go func() {
		got, err := b.Watch(ctx, "orders", set.Index)
		if err != nil {
			t.Errorf("got %v, want nil", err)
		}
		done <- got
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if _, err := a.PutInstance(ctx, storetest.Instance("orders", "i-1")); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if d := time.Since(start); d > time.Second {
		t.Fatalf("got the change after %v, want within 1s", d)
	}
	if len(got.Instances) != 1 || got.Instances[0].ID != "i-1" {
		t.Fatalf("got %+v, want [i-1]", got.Instances)
	}
	// A heartbeat through b renews the instance a registered.
	hb, err := b.PutInstance(ctx, storetest.Instance("orders", "i-1"))
	if err != nil || hb.LastHeartbeat.Before(got.Instances[0].LastHeartbeat) {
		t.Fatalf("got %+v, %v, want a later heartbeat", hb, err)
	}
	list, _ := a.ListComponents(ctx, catalog.ComponentFilter{})
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"orders"}) {
		t.Fatalf("got %v, want [orders]", names)
	}
}

func TestPrefixMustEndWithSlash(t *testing.T) {
	cli := client(t)
	defer cli.Close()
	if _, err := etcd.New(cli, etcd.Options{Prefix: "/x"}); err == nil || !strings.Contains(err.Error(), `"/x"`) {
		t.Fatalf("got %v, want an error naming the prefix", err)
	}
}

func BenchmarkHeartbeat(b *testing.B) {
	eps := os.Getenv("PAVED_TEST_ETCD_ENDPOINTS")
	if eps == "" {
		b.Skip("PAVED_TEST_ETCD_ENDPOINTS is unset")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(eps, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	p := fmt.Sprintf("/paved-bench/%d-%d/", os.Getpid(), time.Now().UnixNano())
	defer cli.Delete(context.Background(), p, clientv3.WithPrefix())
	s, err := etcd.New(cli, etcd.Options{Prefix: p})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkHeartbeat(b, s, 200)
}

// A plain heartbeat through one catalog renews the leases at once and writes its time
// within a flush interval: the other catalog then lists that time.
func TestHeartbeatTimeReachesOtherCatalogs(t *testing.T) {
	a, b, cliA, p := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	reg, err := a.PutInstance(ctx, storetest.Instance("orders", "i-1"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	hb, err := b.HeartbeatInstance(ctx, storetest.Instance("orders", "i-1"))
	if err != nil || !hb.LastHeartbeat.After(reg.LastHeartbeat) {
		t.Fatalf("got %v, %v, want a heartbeat after %v", hb.LastHeartbeat, err, reg.LastHeartbeat)
	}
	if got, err := b.GetInstance(ctx, "orders", "i-1"); err != nil || !got.LastHeartbeat.Equal(hb.LastHeartbeat) {
		t.Fatalf("b: got %v, %v, want its own heartbeat %v at once", got.LastHeartbeat, err, hb.LastHeartbeat)
	}
	deadline := time.Now().Add(etcd.FlushInterval + 3*time.Second)
	for {
		got, err := a.GetInstance(ctx, "orders", "i-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.LastHeartbeat.Equal(hb.LastHeartbeat) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a: got %v, want b's heartbeat %v within the flush interval", got.LastHeartbeat, hb.LastHeartbeat)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Deregistered with its time pending: the flush neither fails nor brings it back.
	if _, err := b.HeartbeatInstance(ctx, storetest.Instance("orders", "i-1")); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	set, err := a.Instances(ctx, "orders")
	if err != nil || len(set.Instances) != 0 {
		t.Fatalf("got %+v, %v after the flush, want no instance", set.Instances, err)
	}
	resp, err := cliA.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Key), "/i/") {
			t.Fatalf("got key %s left after deregistration and flush, want none", kv.Key)
		}
	}
}

// rpcCounter counts what a store asks etcd: reads (Range calls, and transactions that
// read) and LeaseKeepAlive streams opened.
type rpcCounter struct {
	reads, streams atomic.Int64
}

func (c *rpcCounter) options() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			switch r := req.(type) {
			case *pb.RangeRequest:
				c.reads.Add(1)
			case *pb.TxnRequest:
				if slices.ContainsFunc(r.Success, func(op *pb.RequestOp) bool { return op.GetRequestRange() != nil }) {
					c.reads.Add(1)
				}
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if method == "/etcdserverpb.Lease/LeaseKeepAlive" {
				c.streams.Add(1)
			}
			return streamer(ctx, desc, cc, method, opts...)
		}),
	}
}

// A plain heartbeat of an instance registered through the same catalog reads nothing
// from etcd and opens no stream: it renews its leases on the streams already open.
func TestPlainHeartbeatReadsNothing(t *testing.T) {
	plain := client(t) // for the endpoints and the prefix
	defer plain.Close()
	var n rpcCounter
	cli, err := clientv3.New(clientv3.Config{Endpoints: plain.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		DialOptions: n.options()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	s, err := etcd.New(cli, etcd.Options{Prefix: prefix(t, plain)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := s.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	const instances, rounds = 20, 5
	for i := range instances {
		if _, err := s.PutInstance(ctx, storetest.Instance("orders", fmt.Sprintf("i-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	reads, streams := n.reads.Load(), n.streams.Load()
	for range rounds {
		for i := range instances {
			if _, err := s.HeartbeatInstance(ctx, storetest.Instance("orders", fmt.Sprintf("i-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := n.reads.Load() - reads; got != 0 {
		t.Errorf("got %d reads for %d plain heartbeats, want 0", got, instances*rounds)
	}
	if got := n.streams.Load() - streams; got > etcd.RenewStreams {
		t.Errorf("got %d keep-alive streams opened for %d plain heartbeats, want at most %d", got, instances*rounds, etcd.RenewStreams)
	}
	// The heartbeats did renew: each instance's time moved on.
	set, err := s.Instances(ctx, "orders")
	if err != nil || len(set.Instances) != instances {
		t.Fatalf("got %d instances, %v, want %d", len(set.Instances), err, instances)
	}
	for _, in := range set.Instances {
		if !in.LastHeartbeat.After(in.StartedAt) || in.Expired {
			t.Fatalf("got %+v, want a live instance with a heartbeat", in)
		}
	}
}

// A catalog that cached an instance sees a change another catalog made to it: the next
// heartbeat with the old record writes it back instead of passing as a plain one.
func TestHeartbeatSeesChangeByOtherCatalog(t *testing.T) {
	a, b, _, _ := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	v1 := storetest.Instance("orders", "i-1")
	if _, err := a.PutInstance(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.HeartbeatInstance(ctx, v1); err != nil { // a knows the instance
		t.Fatal(err)
	}
	v2 := v1
	v2.Version = "2.0.0"
	if _, err := b.PutInstance(ctx, v2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := a.HeartbeatInstance(ctx, v1); err != nil {
			t.Fatal(err)
		}
		got, err := b.GetInstance(ctx, "orders", "i-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version == v1.Version {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got version %s after heartbeats of %s through a, want a to see b's change and write %s", got.Version, v1.Version, v1.Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An instance deleted by another catalog, even one whose leases were left behind, is
// refused to the catalog that cached it within moments, and never comes back.
func TestHeartbeatAfterDeleteByOtherCatalog(t *testing.T) {
	a, b, cliA, p := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"i-1", "i-2"} {
		if _, err := a.PutInstance(ctx, storetest.Instance("orders", id)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.HeartbeatInstance(ctx, storetest.Instance("orders", id)); err != nil {
			t.Fatal(err)
		}
	}
	// i-1: deregistered through b, its leases revoked.
	if err := b.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.HeartbeatInstance(ctx, storetest.Instance("orders", "i-1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("i-1: got %v, want ErrNotFound at once", err)
	}
	// i-2: its keys deleted with the leases left alive, as by a revocation that failed.
	if _, err := cliA.Delete(ctx, p+"i/orders/i-2/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := a.HeartbeatInstance(ctx, storetest.Instance("orders", "i-2"))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("i-2: got heartbeats accepted 2 s after its deletion, want ErrNotFound")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(etcd.FlushInterval + 500*time.Millisecond) // the pending times are flushed
	resp, err := cliA.Get(ctx, p+"i/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		t.Errorf("got key %s after both deletions, want none", kv.Key)
	}
}

// One flush carries the times of an instance deleted since and of a live one: the live
// one's time reaches the other catalog, the deleted one is not brought back.
func TestFlushSkipsDeletedInstances(t *testing.T) {
	a, b, cliA, p := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	var beat catalog.Instance
	for _, id := range []string{"i-1", "i-2"} {
		if _, err := a.PutInstance(ctx, storetest.Instance("orders", id)); err != nil {
			t.Fatal(err)
		}
		hb, err := b.HeartbeatInstance(ctx, storetest.Instance("orders", id))
		if err != nil {
			t.Fatal(err)
		}
		beat = hb
	}
	if err := a.DeleteInstance(ctx, "orders", "i-1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(etcd.FlushInterval + 3*time.Second)
	for {
		got, err := a.GetInstance(ctx, "orders", "i-2")
		if err != nil {
			t.Fatal(err)
		}
		if got.LastHeartbeat.Equal(beat.LastHeartbeat) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("i-2: got %v, want b's heartbeat %v within the flush interval", got.LastHeartbeat, beat.LastHeartbeat)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := cliA.Get(ctx, p+"i/orders/i-1/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("i-1: got %d keys, %v after the flush, want none", len(resp.Kvs), err)
	}
}

// Heartbeats go on when the keep-alive streams break: the next renewal opens new ones.
func TestHeartbeatAfterStreamsBreak(t *testing.T) {
	a, _, _, _ := twoCatalogs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, err := a.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		t.Fatal(err)
	}
	in := storetest.Instance("orders", "i-1")
	if _, err := a.PutInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := a.HeartbeatInstance(ctx, in); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		etcd.BreakRenewStreams(a)
	}
}
