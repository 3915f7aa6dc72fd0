package etcd_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
	"github.com/paved-road/paved/discovery/etcd"
)

const helperEnv = "PAVED_DISCOVERY_ETCD_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

// helperMain is the child process of TestKilledInstanceDisappears: it registers an
// instance through an Agent, says so on stdout, and runs until killed.
func helperMain() int {
	client, err := etcd.NewClient(strings.Split(os.Getenv("PAVED_TEST_ETCD_ENDPOINTS"), ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reg, err := etcd.NewRegistrar(client, etcd.WithPrefix(os.Getenv(helperEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	agent, err := discovery.NewAgent(reg, discoverytest.NewInstance("orders", "orders-killed", 20001), discovery.WithTTL(2*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for agent.State() != discovery.StateRegistered {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println("registered")
	}()
	_ = agent.Run(context.Background())
	return 0
}

// endpoints returns the etcd endpoints the tests use, from PAVED_TEST_ETCD_ENDPOINTS.
func endpoints(t testing.TB) []string {
	t.Helper()
	v := os.Getenv("PAVED_TEST_ETCD_ENDPOINTS")
	if v == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_ETCD_ENDPOINTS is not set and PAVED_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("PAVED_TEST_ETCD_ENDPOINTS is not set; start etcd and set it to run this test")
	}
	return strings.Split(v, ",")
}

// etcdBinary returns the etcd program for tests that start and stop their own server.
func etcdBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatalf("etcd is not on PATH and PAVED_TEST_REQUIRE_SERVERS=1: %v", err)
		}
		t.Skip("etcd is not on PATH; install etcd-server to run this test")
	}
	return path
}

func newClient(t testing.TB, eps []string) *clientv3.Client {
	t.Helper()
	c, err := etcd.NewClient(eps)
	if err != nil {
		t.Fatalf("NewClient: got %v, want nil", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for one test, and deletes its keys at the end.
func testPrefix(t testing.TB, c *clientv3.Client) string {
	b := make([]byte, 6)
	rand.Read(b)
	p := "/paved-test/" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Delete(ctx, p+"/", clientv3.WithPrefix())
	})
	return p
}

func backend(t *testing.T, c *clientv3.Client, prefix string) discoverytest.Backend {
	reg, err := etcd.NewRegistrar(c, etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("NewRegistrar: got %v, want nil", err)
	}
	t.Cleanup(reg.Close)
	return discoverytest.Backend{
		Registrar: reg,
		NewInstancer: func(t testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer {
			in, err := etcd.NewInstancer(c, service, etcd.WithPrefix(prefix), etcd.WithCacheOptions(opts...))
			if err != nil {
				t.Fatalf("NewInstancer: got %v, want nil", err)
			}
			return in
		},
		// The registry restarted empty: the key is gone, as is the lease.
		Forget: func(t testing.TB, inst discovery.Instance) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := c.Get(ctx, etcd.Key(prefix, inst.Service, inst.ID))
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("reading %s: got %v (%d keys), want 1 key", inst.ID, err, len(resp.Kvs))
			}
			if _, err := c.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
				t.Fatalf("revoking the lease of %s: got %v, want nil", inst.ID, err)
			}
		},
	}
}

func TestConformance(t *testing.T) {
	eps := endpoints(t)
	c := newClient(t, eps)
	discoverytest.Run(t, func(t *testing.T) discoverytest.Backend {
		return backend(t, c, testPrefix(t, c))
	})
}

func TestKeyLayoutAndDeletedKey(t *testing.T) {
	c := newClient(t, endpoints(t))
	prefix := testPrefix(t, c)
	b := backend(t, c, prefix)
	inst := discoverytest.NewInstance("orders", "orders-a", 20001)
	inst.TTL = 5 * time.Second
	ctx := t.Context()
	if err := b.Registrar.Register(ctx, inst); err != nil {
		t.Fatalf("Register: got %v, want nil", err)
	}
	key := prefix + "/orders/orders-a"
	resp, err := c.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get(%s): got %v, %d keys, want 1 key", key, err, len(resp.Kvs))
	}
	want := `{"id":"orders-a","service":"orders","version":"1.2.3","addresses":{"http":"127.0.0.1:20001","admin":"127.0.0.1:20002","grpc":"127.0.0.1:20003"},"status":"passing","metadata":{"team":"checkout","zone":"a"}}`
	if got := string(resp.Kvs[0].Value); got != want {
		t.Errorf("value: got %s, want %s", got, want)
	}
	ttl, err := c.TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	if err != nil || ttl.GrantedTTL != 5 {
		t.Errorf("lease: got granted TTL %d (err %v), want 5", ttl.GrantedTTL, err)
	}
	// Someone deletes the key while the lease lives: the heartbeat reports an unknown
	// instance rather than silently writing it back.
	if _, err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	inst.Status = discovery.StatusWarning
	if err := b.Registrar.Heartbeat(ctx, inst); !errorsIsUnknown(err) {
		t.Errorf("Heartbeat after the key was deleted: got %v, want discovery.ErrUnknownInstance", err)
	}
}

func TestNewErrors(t *testing.T) {
	c, err := etcd.NewClient([]string{"http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := etcd.NewRegistrar(c, etcd.WithPrefix("paved/")); err == nil || !strings.Contains(err.Error(), `got "paved/"`) {
		t.Errorf("NewRegistrar(bad prefix): got %v, want an error naming the prefix", err)
	}
	if _, err := etcd.NewInstancer(c, "Bad_Name"); err == nil || !strings.Contains(err.Error(), "service must be a DNS label") {
		t.Errorf("NewInstancer(bad service): got %v, want an error naming the service", err)
	}
	if _, err := etcd.NewRegistrar(nil); err == nil {
		t.Errorf("NewRegistrar(nil): got nil, want an error")
	}
	if _, err := etcd.NewClient(nil); err == nil || !strings.Contains(err.Error(), "ETCD_ENDPOINTS") {
		t.Errorf("NewClient(nil): got %v, want an error naming ETCD_ENDPOINTS", err)
	}
}

// TestKilledInstanceDisappears: a process registered through an Agent is killed with
// SIGKILL; watchers drop it within TTL + 2 s, when its lease expires.
func TestKilledInstanceDisappears(t *testing.T) {
	eps := endpoints(t)
	c := newClient(t, eps)
	prefix := testPrefix(t, c)
	in, err := etcd.NewInstancer(c, "orders", etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+prefix, "PAVED_TEST_ETCD_ENDPOINTS="+strings.Join(eps, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the child: %v", err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "registered\n" {
		t.Fatalf("child said %q (%v), want registered", line, err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-killed")

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cmd.Wait()
	const ttl = 2 * time.Second
	discoverytest.WaitFor(t, in, ttl+2*time.Second)
	t.Logf("gone %v after SIGKILL (TTL %v)", time.Since(killed).Round(time.Millisecond), ttl)
}

// etcdServer is an etcd process the test starts and stops itself.
type etcdServer struct {
	t          *testing.T
	bin        string
	clientPort int
	peerPort   int
	cmd        *exec.Cmd
	dir        string // data directory of the last start
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newEtcdServer(t *testing.T) *etcdServer {
	return &etcdServer{t: t, bin: etcdBinary(t), clientPort: freePort(t), peerPort: freePort(t)}
}

func (s *etcdServer) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", s.clientPort) }

// start runs etcd with a new, empty data directory and waits until it is healthy.
func (s *etcdServer) start() { s.startIn(s.t.TempDir()) }

// startIn runs etcd on the data in dir and waits until it is healthy.
func (s *etcdServer) startIn(dir string) {
	t := s.t
	s.dir = dir
	peer := fmt.Sprintf("http://127.0.0.1:%d", s.peerPort)
	s.cmd = exec.Command(s.bin, "--name", "paved-test", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", s.endpoint(), "--advertise-client-urls", s.endpoint(),
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "paved-test="+peer)
	logf, err := os.OpenFile(filepath.Join(dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	cmd := s.cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.endpoint() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("etcd did not become healthy: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *etcdServer) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// TestRegistryDownAtStartup: the agent starts while etcd is down and keeps retrying;
// once etcd is up, the instance appears within two heartbeat intervals.
func TestRegistryDownAtStartup(t *testing.T) {
	srv := newEtcdServer(t)
	c := newClient(t, []string{srv.endpoint()})
	reg, err := etcd.NewRegistrar(c)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	const ttl = 6 * time.Second // heartbeat interval 2 s
	agent, err := discovery.NewAgent(reg, discoverytest.NewInstance("orders", "orders-a", 20001), discovery.WithTTL(ttl))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- agent.Run(ctx) }()
	defer func() { cancel(); <-runErr }()

	time.Sleep(3 * time.Second) // several failed attempts
	if got := agent.State(); got != discovery.StateFailing {
		t.Errorf("State while etcd is down: got %v, want %v", got, discovery.StateFailing)
	}
	srv.start()
	up := time.Now()
	in, err := etcd.NewInstancer(c, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	discoverytest.WaitFor(t, in, 2*agent.HeartbeatInterval(), "orders-a")
	t.Logf("registered %v after etcd came up (heartbeat interval %v)", time.Since(up).Round(time.Millisecond), agent.HeartbeatInterval())
	for deadline := time.Now().Add(time.Second); agent.State() != discovery.StateRegistered; {
		if time.Now().After(deadline) {
			t.Fatalf("State: got %v (%v), want %v", agent.State(), agent.Err(), discovery.StateRegistered)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRegistryRestartedEmpty: etcd is replaced by an empty one on the same address;
// every agent registers again within 10 s.
func TestRegistryRestartedEmpty(t *testing.T) {
	srv := newEtcdServer(t)
	srv.start()
	c := newClient(t, []string{srv.endpoint()})
	reg, err := etcd.NewRegistrar(c)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const n = 5
	var want []string
	runErrs := make(chan error, n)
	for i := range n {
		id := fmt.Sprintf("orders-%d", i)
		want = append(want, id)
		agent, err := discovery.NewAgent(reg, discoverytest.NewInstance("orders", id, 21000+3*i), discovery.WithTTL(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		go func() { runErrs <- agent.Run(ctx) }()
	}
	defer func() {
		cancel()
		for range n {
			<-runErrs
		}
	}()
	in, err := etcd.NewInstancer(c, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	discoverytest.WaitFor(t, in, 10*time.Second, want...)

	srv.kill()
	srv.start() // a new, empty data directory on the same address
	restarted := time.Now()
	for {
		resp, err := c.Get(ctx, etcd.Key(etcd.DefaultPrefix, "orders", ""), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil && resp.Count == n {
			break
		}
		if time.Since(restarted) > 10*time.Second {
			t.Fatalf("10 s after the restart: got %v keys (err %v), want %d", resp.Count, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("all %d instances back %v after the restart", n, time.Since(restarted).Round(time.Millisecond))

	// The watcher started before the restart follows the new store: it sees a new
	// instance and its departure.
	extra := discoverytest.NewInstance("orders", "orders-new", 22000)
	if err := reg.Register(ctx, extra); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second, append(want, "orders-new")...)
	if err := reg.Deregister(ctx, extra); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second, want...)
	t.Logf("the watcher followed the new store %v after the restart", time.Since(restarted).Round(time.Millisecond))
}

// TestOutageKeepsLastKnownSet: while etcd is down, watchers keep the last known set and
// the agent keeps trying; etcd back with its data, the registration is still there and
// watchers follow new changes.
func TestOutageKeepsLastKnownSet(t *testing.T) {
	srv := newEtcdServer(t)
	srv.start()
	c := newClient(t, []string{srv.endpoint()})
	reg, err := etcd.NewRegistrar(c)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	agent, err := discovery.NewAgent(reg, discoverytest.NewInstance("orders", "orders-a", 20001), discovery.WithTTL(6*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- agent.Run(ctx) }()
	defer func() { cancel(); <-runErr }()
	in, err := etcd.NewInstancer(c, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-a")

	srv.kill()
	down := time.Now()
	// Down for at least 3 s and until a heartbeat (every 2 s, each given 2 s) has failed.
	for time.Since(down) < 3*time.Second || agent.State() != discovery.StateFailing {
		if insts, _ := in.Instances(); len(insts) != 1 || insts[0].ID != "orders-a" {
			t.Fatalf("while etcd is down: got %v, want the last known set [orders-a]", insts)
		}
		if time.Since(down) > 8*time.Second {
			t.Fatalf("agent state 8 s after etcd went down: got %v, want %v", agent.State(), discovery.StateFailing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.startIn(srv.dir) // back with its data
	for deadline := time.Now().Add(10 * time.Second); agent.State() != discovery.StateRegistered; {
		if time.Now().After(deadline) {
			t.Fatalf("agent state after etcd came back: got %v (%v), want %v", agent.State(), agent.Err(), discovery.StateRegistered)
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := discoverytest.NewInstance("orders", "orders-b", 20004)
	if err := reg.Register(ctx, other); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-a", "orders-b")
}

// TestInstancerIgnoresForeignKeys: keys under the prefix that are not valid instances of
// the service are skipped, not passed to clients.
func TestInstancerIgnoresForeignKeys(t *testing.T) {
	c := newClient(t, endpoints(t))
	prefix := testPrefix(t, c)
	ctx := t.Context()
	good := discoverytest.NewInstance("orders", "orders-a", 20001)
	wrongService := discoverytest.NewInstance("inventory", "orders-b", 20004)
	for key, value := range map[string]string{
		etcd.Key(prefix, "orders", "garbage"):  "not json",
		etcd.Key(prefix, "orders", "invalid"):  `{"id":"invalid","service":"orders"}`,
		etcd.Key(prefix, "orders", "orders-b"): mustJSON(t, wrongService),
	} {
		if _, err := c.Put(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := etcd.NewRegistrar(c, etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if err := reg.Register(ctx, good); err != nil {
		t.Fatal(err)
	}
	in, err := etcd.NewInstancer(c, "orders", etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-a")
	// A later bad write to a good key removes that instance rather than keeping stale data.
	if _, err := c.Put(ctx, etcd.Key(prefix, "orders", "orders-a"), "{"); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second)
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
