package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// fakeResolver is a fake DNS: it answers from its table and counts lookups, so that
// tests resolve names such as 169.254.169.254.nip.io without a network. A name not in
// the table does not resolve. The zero value knows no name.
type fakeResolver struct {
	names map[string][]netip.Addr
	mu    *sync.Mutex
	calls map[string]int
}

func newFakeResolver(names map[string]string) fakeResolver {
	r := fakeResolver{names: map[string][]netip.Addr{}, mu: &sync.Mutex{}, calls: map[string]int{}}
	for name, addrs := range names {
		for _, a := range strings.Split(addrs, ",") {
			r.names[name] = append(r.names[name], netip.MustParseAddr(a))
		}
	}
	return r
}

func (r fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if r.mu != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls[host]++
	}
	if addrs, ok := r.names[host]; ok && network == "ip" {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r fakeResolver) lookups(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

// The names the tests resolve.
func testResolver() fakeResolver {
	return newFakeResolver(map[string]string{
		"169.254.169.254.nip.io": "169.254.169.254",
		"orders.internal":        "10.0.0.7",
		"orders6.internal":       "fd12::7",
		"public.example.com":     "203.0.113.7,2001:db8::7",
		"mixed.example.com":      "10.0.0.8,127.0.0.1",
		"loop.example.com":       "127.0.0.1",
	})
}

// policyEnv is a catalog server with the given policy settings and the test resolver.
func policyEnv(t *testing.T, development bool, nets ...string) (*env, fakeResolver) {
	t.Helper()
	res := testResolver()
	e := newEnv(t, func(o *server.Options) {
		o.Development = development
		o.Resolver = res
		for _, n := range nets {
			o.AllowedNetworks = append(o.AllowedNetworks, netip.MustParsePrefix(n))
		}
	})
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	return e, res
}

// register registers instance id of orders with admin address addr.
func (e *env) register(id, addr string) resp {
	e.t.Helper()
	in := storetest.Instance("orders", id)
	in.Addresses = catalog.Addresses{Admin: addr}
	return e.do("PUT", "/api/v1/components/orders/instances/"+id, tokenA, in)
}

// refused checks that r is a 400 naming field and the policy.
func refused(t *testing.T, r resp, field, policy string) {
	t.Helper()
	expect(t, r, 400)
	p := r.problem(t)
	for _, fe := range p.Errors {
		if fe.Field == field {
			if !strings.Contains(fe.Message, "address policy ("+policy) {
				t.Fatalf("got message %q, want it to name the policy %q", fe.Message, policy)
			}
			return
		}
	}
	t.Fatalf("got errors %v, want one on %s", p.Errors, field)
}

// Outside development the policy refuses every unsafe address of the issue, whether an
// IP literal or a name resolving to one, and a name that does not resolve.
func TestAddressPolicyRefusesOutsideDevelopment(t *testing.T) {
	e, _ := policyEnv(t, false)
	for _, tt := range []struct{ addr, why string }{
		{"localhost:9090", "loopback"},
		{"127.0.0.1:9090", "loopback"},
		{"127.8.9.10:9090", "loopback"},
		{"[::1]:80", "loopback"},
		{"[::ffff:127.0.0.1]:80", "loopback"},
		{"[64:ff9b::7f00:1]:80", "loopback"},
		{"localhost.:80", "loopback"},
		{"LocalHost:80", "loopback"},
		{"grafana.localhost:80", "loopback"},
		{"loop.example.com:80", "resolves to 127.0.0.1"},
		{"mixed.example.com:80", "resolves to 127.0.0.1"},
		{"169.254.169.254.nip.io:80", "resolves to 169.254.169.254"},
		{"169.254.169.254:80", "link-local"},
		{"[fd00:ec2::254]:80", "metadata"},
		{"100.100.100.200:80", "metadata"},
		{"metadata.google.internal:80", "metadata"},
		{"0.0.0.0:80", "unspecified"},
		{"[::]:80", "unspecified"},
		{"224.0.0.1:80", "multicast"},
		{"[ff02::1]:80", "multicast"},
		{"[fe80::1]:80", "link-local"},
		{"nowhere.invalid:80", "does not resolve (no such host)"},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			r := e.register("i-1", tt.addr)
			refused(t, r, "addresses.admin", "the default outside development")
			if !strings.Contains(string(r.body), tt.why) {
				t.Fatalf("got %s, want it to say %q", r.body, tt.why)
			}
		})
	}
	set, _ := e.st.Instances(t.Context(), "orders")
	if len(set.Instances) != 0 {
		t.Fatalf("got %v stored, want none", instanceIDs(set))
	}
}

// Every address an instance registers is checked, each refusal naming its field.
func TestAddressPolicyChecksEveryAddress(t *testing.T) {
	e, _ := policyEnv(t, false)
	in := storetest.Instance("orders", "i-1")
	in.Addresses = catalog.Addresses{HTTP: "127.0.0.1:8080", Admin: "10.0.0.7:9090", GRPC: "localhost:9000"}
	in.Version = "" // another invalid field is listed with them
	r := e.do("PUT", "/api/v1/components/orders/instances/i-1", tokenA, in)
	expect(t, r, 400)
	if got := fieldsOf(r.problem(t)); !slices.Equal(got, []string{"addresses.http", "addresses.grpc", "version"}) {
		t.Fatalf("got fields %v, want [addresses.http addresses.grpc version]", got)
	}
}

func TestAddressPolicyAcceptsPrivateAndPublic(t *testing.T) {
	e, _ := policyEnv(t, false)
	for i, addr := range []string{"10.0.0.7:9090", "172.16.3.4:9090", "192.168.1.5:9090", "[fd12::7]:9090",
		"203.0.113.7:9090", "[2001:db8::7]:9090", "orders.internal:9090", "orders6.internal:9090", "public.example.com:9090"} {
		if r := e.register("i-"+string(rune('a'+i)), addr); r.status != 200 {
			t.Errorf("%s: got %d %s, want 200", addr, r.status, r.body)
		}
	}
}

func TestAddressPolicyDevelopment(t *testing.T) {
	e, _ := policyEnv(t, true)
	for i, addr := range []string{"localhost:9090", "127.0.0.1:9090", "[::1]:80", "localhost.:80", "loop.example.com:80", "192.168.1.5:80", "[fd12::7]:80"} {
		if r := e.register("i-"+string(rune('a'+i)), addr); r.status != 200 {
			t.Errorf("%s: got %d %s, want 200", addr, r.status, r.body)
		}
	}
	for _, addr := range []string{"203.0.113.7:80", "169.254.169.254.nip.io:80", "[fe80::1]:80", "nowhere.invalid:80"} {
		refused(t, e.register("i-x", addr), "addresses.admin", "the development default")
	}
}

// An explicit list re-allows loopback only by naming a loopback network; the metadata
// and link-local addresses stay refused whatever the list.
func TestAddressPolicyExplicitNetworks(t *testing.T) {
	e, _ := policyEnv(t, false, "10.0.0.0/8", "127.0.0.0/8")
	expect(t, e.register("i-1", "127.0.0.1:9090"), 200)
	expect(t, e.register("i-2", "10.1.2.3:9090"), 200)
	refused(t, e.register("i-3", "192.168.1.1:9090"), "addresses.admin", "CATALOG_ALLOWED_NETWORKS=10.0.0.0/8,127.0.0.0/8")
	refused(t, e.register("i-3", "[::1]:9090"), "addresses.admin", "CATALOG_ALLOWED_NETWORKS")
	refused(t, e.register("i-3", "localhost:9090"), "addresses.admin", "CATALOG_ALLOWED_NETWORKS") // ::1 is not listed

	wide, _ := policyEnv(t, false, "0.0.0.0/0", "::/0", "169.254.0.0/16", "100.64.0.0/10")
	for _, addr := range []string{"127.0.0.1:9090", "169.254.169.254:80", "100.100.100.200:80", "169.254.169.254.nip.io:80"} {
		refused(t, wide.register("i-1", addr), "addresses.admin", "CATALOG_ALLOWED_NETWORKS")
	}
	expect(t, wide.register("i-1", "100.64.0.1:9090"), 200)
}

// A heartbeat that changes no address resolves nothing; one that changes an address is
// checked like a registration.
func TestAddressPolicyHeartbeat(t *testing.T) {
	e, res := policyEnv(t, false)
	expect(t, e.register("i-1", "orders.internal:9090"), 200)
	in := storetest.Instance("orders", "i-1")
	in.Addresses = catalog.Addresses{Admin: "orders.internal:9090"}
	hb := func(in catalog.Instance) resp {
		return e.doHeader("PUT", "/api/v1/components/orders/instances/i-1", tokenA, map[string][]string{"If-Match": {"*"}}, in)
	}
	for range 3 {
		expect(t, hb(in), 200)
		expect(t, e.register("i-1", "orders.internal:9090"), 200)
	}
	if n := res.lookups("orders.internal"); n != 1 {
		t.Fatalf("got %d lookups of orders.internal, want 1 (at registration)", n)
	}
	in.Addresses.Admin = "loop.example.com:9090"
	refused(t, hb(in), "addresses.admin", "the default outside development")
	got, err := e.st.GetInstance(t.Context(), "orders", "i-1")
	if err != nil || got.Addresses.Admin != "orders.internal:9090" {
		t.Fatalf("got %v, %v, want the instance unchanged", got.Addresses, err)
	}
}

// Records written before the policy existed (put straight into the store) are not
// published when the policy refuses them now; a name is judged by what it resolves to.
func TestTargetsFilteredByAddressPolicy(t *testing.T) {
	e, res := policyEnv(t, false)
	ctx := t.Context()
	for id, addr := range map[string]string{
		"old-loopback": "127.0.0.1:9090",
		"old-local":    "localhost:9090",
		"old-metadata": "169.254.169.254.nip.io:9090",
		"old-gone":     "nowhere.invalid:9090",
		"old-ok":       "10.0.0.9:9090",
		"old-name":     "orders.internal:9090",
	} {
		in := storetest.Instance("orders", id)
		in.Addresses = catalog.Addresses{Admin: addr}
		if _, err := e.st.PutInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, e.register("new-ok", "public.example.com:9090"), 200)
	targets := func() []string {
		r := e.do("GET", "/api/v1/targets", "", nil)
		expect(t, r, 200)
		var groups []server.TargetGroup
		if err := json.Unmarshal(r.body, &groups); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range groups {
			ids = append(ids, g.Labels["instance_id"])
		}
		return ids
	}
	if got := targets(); !slices.Equal(got, []string{"new-ok", "old-name", "old-ok"}) {
		t.Fatalf("got %v, want [new-ok old-name old-ok]", got)
	}
	// Names resolved for /targets are remembered for a minute, not resolved per call.
	before := res.lookups("orders.internal")
	targets()
	if n := res.lookups("orders.internal"); n != before {
		t.Fatalf("got %d lookups after a second /targets, want %d", n, before)
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := server.ParseNetworks([]string{" 10.0.0.0/8", "fd00::/8 ", "127.0.0.0/8"})
	if err != nil || len(got) != 3 || got[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Fatalf("got %v, %v, want 3 networks", got, err)
	}
	_, err = server.ParseNetworks([]string{"10.0.0.0/8", "10.0.0.1/8", "banana", "10.0.0.7", "169.254.0.0/16", "fe80::/64", "", "224.0.0.0/8"})
	if err == nil {
		t.Fatal("got no error, want every bad entry listed")
	}
	for _, want := range []string{`"10.0.0.1/8": has host bits set: did you mean 10.0.0.0/8?`, `"banana": is not a CIDR`,
		`"10.0.0.7": is an address, not a network: write 10.0.0.7/32`, `"169.254.0.0/16": is link-local`, `"fe80::/64": is link-local`,
		`"": is empty`, `"224.0.0.0/8": is multicast`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %s", err, want)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 7 {
		t.Errorf("got %d errors, want 7", n)
	}
}

func TestDefaultAllowedNetworks(t *testing.T) {
	dev := server.DefaultAllowedNetworks(true)
	for _, a := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.31.0.1", "192.168.0.1", "fd00::1"} {
		if !slices.ContainsFunc(dev, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr(a)) }) {
			t.Errorf("development default: got %s outside, want it inside", a)
		}
	}
	if slices.ContainsFunc(dev, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr("8.8.8.8")) }) {
		t.Errorf("development default: got a public address inside, want loopback and private ranges only")
	}
}
