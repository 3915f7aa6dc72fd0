package discoverytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	kitlog "github.com/go-kit/log"

	"github.com/paved-road/paved/discovery"
)

// Backend is what a backend's test hands to [Run].
type Backend struct {
	// Registrar is the backend's registrar. Required.
	Registrar discovery.Registrar
	// NewInstancer returns an instancer of the ready instances of service, built with
	// opts. Required. The suite stops it.
	NewInstancer func(t testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer
	// Forget makes the registry drop inst, as a registry restarted empty would (delete
	// the key, revoke the lease...). Nil skips the subtests that need it.
	Forget func(t testing.TB, inst discovery.Instance)
	// TTL is the TTL the agent subtest registers with; zero means 3 s. Backends with a
	// minimum TTL set theirs.
	TTL time.Duration
	// Wait bounds how long a change may take to reach an instancer; zero means 10 s.
	Wait time.Duration
}

// Run runs the conformance suite as subtests of t. newBackend is called once per subtest
// and must return a backend isolated from the others' (fresh key prefix or server).
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, b Backend)
	}{
		{"RegisterIsSeenByInstancer", testRegister},
		{"RegisterRejectsInvalidInstance", testRegisterInvalid},
		{"HeartbeatCarriesReadiness", testReadiness},
		{"HeartbeatUnknownInstance", testHeartbeatUnknown},
		{"DeregisterIsSeenByWatcher", testDeregister},
		{"ForgottenInstanceReregisters", testForget},
		{"GoKitEndpointerAndBalancer", testEndpointer},
		{"ConcurrentRegistrations", testConcurrent},
		{"AgentLifecycle", testAgent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			if b.Wait == 0 {
				b.Wait = 10 * time.Second
			}
			if b.TTL == 0 {
				b.TTL = 3 * time.Second
			}
			tc.f(t, b)
		})
	}
}

// NewInstance returns a valid instance of service with the given id, passing, with one
// address of each kind on 127.0.0.1 and metadata.
func NewInstance(service, id string, port int) discovery.Instance {
	return discovery.Instance{
		ID:      id,
		Service: service,
		Version: "1.2.3",
		Addresses: discovery.Addresses{
			HTTP:  fmt.Sprintf("127.0.0.1:%d", port),
			Admin: fmt.Sprintf("127.0.0.1:%d", port+1),
			GRPC:  fmt.Sprintf("127.0.0.1:%d", port+2),
		},
		Status:   discovery.StatusPassing,
		Metadata: map[string]string{"zone": "a", "team": "checkout"},
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func instancer(t *testing.T, b Backend, service string, opts ...discovery.CacheOption) discovery.Instancer {
	t.Helper()
	in := b.NewInstancer(t, service, opts...)
	t.Cleanup(in.Stop)
	return in
}

// ids returns the ids of insts.
func ids(insts []discovery.Instance) []string {
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = in.ID
	}
	return out
}

// WaitFor reads events from in until the ready ids are exactly want (in any order), or
// fails t after wait. It returns the matching instances.
func WaitFor(t testing.TB, in discovery.Instancer, wait time.Duration, want ...string) []discovery.Instance {
	t.Helper()
	events, cancel := in.Subscribe()
	defer cancel()
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var last discovery.Event
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("instancer stopped; got %v, want %v", ids(last.Instances), want)
			}
			last = e
			got := ids(e.Instances)
			slices.Sort(got)
			if slices.Equal(got, want) {
				return e.Instances
			}
		case <-timer.C:
			t.Fatalf("after %v: got ready instances %v (err %v), want %v", wait, ids(last.Instances), last.Err, want)
			return nil
		}
	}
}

func mustRegister(t *testing.T, b Backend, inst discovery.Instance) {
	t.Helper()
	if err := b.Registrar.Register(ctx(t), inst); err != nil {
		t.Fatalf("Register(%s): got %v, want nil", inst.ID, err)
	}
}

func heartbeat(t *testing.T, b Backend, inst discovery.Instance, s discovery.Status) {
	t.Helper()
	inst.Status = s
	if err := b.Registrar.Heartbeat(ctx(t), inst); err != nil {
		t.Fatalf("Heartbeat(%s, %s): got %v, want nil", inst.ID, s, err)
	}
}

func normalize(in discovery.Instance) discovery.Instance {
	in.TTL = 0
	if len(in.Metadata) == 0 {
		in.Metadata = nil
	}
	return in
}

func testRegister(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	other := instancer(t, b, "inventory")
	WaitFor(t, in, b.Wait)
	a := NewInstance("orders", "orders-a", 20001)
	mustRegister(t, b, a)
	got := WaitFor(t, in, b.Wait, "orders-a")
	if !reflect.DeepEqual(normalize(got[0]), normalize(a)) {
		t.Errorf("discovered instance: got %+v, want %+v", got[0], a)
	}
	// The go-kit view lists the HTTP address.
	ch := make(chan sd.Event, 1)
	in.Register(ch)
	e := <-ch
	in.Deregister(ch)
	if want := []string{a.Addresses.HTTP}; !slices.Equal(e.Instances, want) || e.Err != nil {
		t.Errorf("sd.Event: got %v (err %v), want %v", e.Instances, e.Err, want)
	}
	// Another service's instancer does not see it.
	if insts, err := other.Instances(); len(insts) != 0 || err != nil {
		t.Errorf("other service's instances: got %v (err %v), want none", ids(insts), err)
	}
	// Registering again replaces the registration.
	a2 := a.Clone()
	a2.Version = "1.2.4"
	mustRegister(t, b, a2)
	deadline := time.Now().Add(b.Wait)
	for {
		insts, _ := in.Instances()
		if len(insts) == 1 && insts[0].Version == "1.2.4" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after re-registration: got %+v, want version 1.2.4", insts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testRegisterInvalid(t *testing.T, b Backend) {
	bad := NewInstance("orders", "bad id/with slash", 20001)
	bad.Addresses.HTTP = "127.0.0.1:99999"
	err := b.Registrar.Register(ctx(t), bad)
	var ve *discovery.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Register(invalid): got %v, want a *discovery.ValidationError", err)
	}
	if len(ve.Problems) != 2 || ve.Problems[0].Field != "id" || ve.Problems[1].Field != "addresses.http" {
		t.Errorf("problems: got %+v, want id and addresses.http", ve.Problems)
	}
	in := instancer(t, b, "orders")
	good := NewInstance("orders", "orders-good", 20010)
	mustRegister(t, b, good)
	WaitFor(t, in, b.Wait, "orders-good") // the invalid one left nothing behind
}

func testReadiness(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	warnOK := instancer(t, b, "orders", discovery.AllowWarning(true))
	a := NewInstance("orders", "orders-a", 20001)
	c := NewInstance("orders", "orders-c", 20004)
	mustRegister(t, b, a)
	mustRegister(t, b, c)
	WaitFor(t, in, b.Wait, "orders-a", "orders-c")

	heartbeat(t, b, a, discovery.StatusCritical)
	WaitFor(t, in, b.Wait, "orders-c")
	WaitFor(t, warnOK, b.Wait, "orders-c")

	heartbeat(t, b, a, discovery.StatusWarning)
	WaitFor(t, warnOK, b.Wait, "orders-a", "orders-c")
	WaitFor(t, in, b.Wait, "orders-c")

	heartbeat(t, b, a, discovery.StatusPassing)
	WaitFor(t, in, b.Wait, "orders-a", "orders-c")

	// An instance registered not ready is not passed on.
	d := NewInstance("orders", "orders-d", 20007)
	d.Status = discovery.StatusCritical
	mustRegister(t, b, d)
	heartbeat(t, b, c, discovery.StatusCritical) // a later change, so d's registration is surely seen
	WaitFor(t, in, b.Wait, "orders-a")
}

func testHeartbeatUnknown(t *testing.T, b Backend) {
	err := b.Registrar.Heartbeat(ctx(t), NewInstance("orders", "never-registered", 20001))
	if !errors.Is(err, discovery.ErrUnknownInstance) {
		t.Fatalf("Heartbeat(unregistered): got %v, want an error matching discovery.ErrUnknownInstance", err)
	}
	a := NewInstance("orders", "orders-a", 20001)
	mustRegister(t, b, a)
	if err := b.Registrar.Deregister(ctx(t), a); err != nil {
		t.Fatalf("Deregister: got %v, want nil", err)
	}
	err = b.Registrar.Heartbeat(ctx(t), a)
	if !errors.Is(err, discovery.ErrUnknownInstance) {
		t.Fatalf("Heartbeat(deregistered): got %v, want an error matching discovery.ErrUnknownInstance", err)
	}
}

func testDeregister(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	ch := make(chan sd.Event)
	var (
		mu     sync.Mutex
		events []sd.Event
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	}()
	in.Register(ch)
	a := NewInstance("orders", "orders-a", 20001)
	c := NewInstance("orders", "orders-c", 20004)
	mustRegister(t, b, a)
	mustRegister(t, b, c)
	WaitFor(t, in, b.Wait, "orders-a", "orders-c")
	if err := b.Registrar.Deregister(ctx(t), a); err != nil {
		t.Fatalf("Deregister: got %v, want nil", err)
	}
	WaitFor(t, in, b.Wait, "orders-c")
	in.Deregister(ch)
	close(ch)
	<-done
	mu.Lock()
	last := events[len(events)-1]
	mu.Unlock()
	if want := []string{c.Addresses.HTTP}; !slices.Equal(last.Instances, want) {
		t.Errorf("watcher's last event: got %v, want %v", last.Instances, want)
	}
	// Deregistering again, or an unknown instance, is not an error.
	if err := b.Registrar.Deregister(ctx(t), a); err != nil {
		t.Errorf("second Deregister: got %v, want nil", err)
	}
}

func testForget(t *testing.T, b Backend) {
	if b.Forget == nil {
		t.Skip("backend cannot make the registry forget an instance")
	}
	in := instancer(t, b, "orders")
	a := NewInstance("orders", "orders-a", 20001)
	mustRegister(t, b, a)
	WaitFor(t, in, b.Wait, "orders-a")
	b.Forget(t, a)
	WaitFor(t, in, b.Wait)
	err := b.Registrar.Heartbeat(ctx(t), a)
	if !errors.Is(err, discovery.ErrUnknownInstance) {
		t.Fatalf("Heartbeat after Forget: got %v, want an error matching discovery.ErrUnknownInstance", err)
	}
	mustRegister(t, b, a)
	WaitFor(t, in, b.Wait, "orders-a")
	heartbeat(t, b, a, discovery.StatusPassing)
}

func testEndpointer(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		return func(context.Context, any) (any, error) { return instance, nil }, nil, nil
	}
	e := sd.NewEndpointer(in, factory, kitlog.NewNopLogger())
	defer e.Close()
	a := NewInstance("orders", "orders-a", 20001)
	c := NewInstance("orders", "orders-c", 20004)
	mustRegister(t, b, a)
	mustRegister(t, b, c)
	WaitFor(t, in, b.Wait, "orders-a", "orders-c")
	deadline := time.Now().Add(b.Wait)
	for {
		eps, err := e.Endpoints()
		if err == nil && len(eps) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoints: got %d (err %v), want 2", len(eps), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	rr := lb.NewRoundRobin(e)
	seen := map[any]bool{}
	for range 4 {
		ep, err := rr.Endpoint()
		if err != nil {
			t.Fatalf("round robin: got %v, want nil", err)
		}
		got, _ := ep(ctx(t), nil)
		seen[got] = true
	}
	if want := map[any]bool{a.Addresses.HTTP: true, c.Addresses.HTTP: true}; !reflect.DeepEqual(seen, want) {
		t.Errorf("round robin reached: got %v, want %v", seen, want)
	}
}

func testConcurrent(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	const n = 8
	var wg sync.WaitGroup
	want := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		want[i] = fmt.Sprintf("orders-%d", i)
		wg.Go(func() {
			errs[i] = b.Registrar.Register(ctx(t), NewInstance("orders", want[i], 21000+3*i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Register(%s): got %v, want nil", want[i], err)
		}
	}
	WaitFor(t, in, b.Wait, want...)
}

func testAgent(t *testing.T, b Backend) {
	in := instancer(t, b, "orders")
	var (
		mu    sync.Mutex
		ready = discovery.StatusPassing
	)
	agent, err := discovery.NewAgent(b.Registrar, NewInstance("orders", "orders-agent", 20001),
		discovery.WithTTL(b.TTL),
		discovery.WithReadiness(func() discovery.Status { mu.Lock(); defer mu.Unlock(); return ready }))
	if err != nil {
		t.Fatalf("NewAgent: got %v, want nil", err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- agent.Run(t.Context()) }()
	WaitFor(t, in, b.Wait, "orders-agent")
	// The watcher may see the instance before the registrar's call has returned.
	for deadline := time.Now().Add(b.Wait); agent.State() != discovery.StateRegistered; {
		if time.Now().After(deadline) {
			t.Fatalf("State: got %v, want %v", agent.State(), discovery.StateRegistered)
		}
		time.Sleep(time.Millisecond)
	}

	// Readiness fails: the next heartbeat takes the instance out of clients' sets.
	mu.Lock()
	ready = discovery.StatusCritical
	mu.Unlock()
	WaitFor(t, in, b.Wait)
	mu.Lock()
	ready = discovery.StatusPassing
	mu.Unlock()
	WaitFor(t, in, b.Wait, "orders-agent")

	if b.Forget != nil {
		b.Forget(t, NewInstance("orders", "orders-agent", 20001))
		WaitFor(t, in, b.Wait)
		WaitFor(t, in, b.Wait, "orders-agent") // re-registered by the agent
	}

	if err := agent.Deregister(ctx(t)); err != nil {
		t.Fatalf("Deregister: got %v, want nil", err)
	}
	WaitFor(t, in, b.Wait)
	if err := <-runErr; err != nil {
		t.Errorf("Run after Deregister: got %v, want nil", err)
	}
	if got := agent.State(); got != discovery.StateDeregistered {
		t.Errorf("State: got %v, want %v", got, discovery.StateDeregistered)
	}
}
