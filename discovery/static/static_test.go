package static_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
	"github.com/paved-road/paved/discovery/static"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRegistryConformance(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Backend {
		reg := &static.Registry{}
		return discoverytest.Backend{
			Registrar: reg,
			NewInstancer: func(_ testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer {
				return reg.Instancer(service, opts...)
			},
			Forget: func(t testing.TB, inst discovery.Instance) {
				if !reg.Forget(inst.Service, inst.ID) {
					t.Fatalf("Forget(%s): got false, want true", inst.ID)
				}
			},
		}
	})
}

func TestParse(t *testing.T) {
	got, err := static.Parse(" inventory = 127.0.0.1:8081, 127.0.0.1:8082 ; orders=grpc://10.0.0.7:9000;;")
	if err != nil {
		t.Fatalf("Parse: got %v, want nil", err)
	}
	if len(got) != 2 || len(got["inventory"]) != 2 || len(got["orders"]) != 1 {
		t.Fatalf("Parse: got %+v, want 2 inventory and 1 orders instances", got)
	}
	inv := got["inventory"][1]
	if inv.ID != "inventory-2" || inv.Addresses.HTTP != "127.0.0.1:8082" || inv.Status != discovery.StatusPassing || inv.Version != static.Version {
		t.Errorf("inventory[1]: got %+v, want inventory-2 at 127.0.0.1:8082, passing", inv)
	}
	if o := got["orders"][0]; o.Addresses.GRPC != "10.0.0.7:9000" || o.Addresses.HTTP != "" {
		t.Errorf("orders[0]: got %+v, want only grpc 10.0.0.7:9000", o.Addresses)
	}
	if got, err := static.Parse(""); err != nil || len(got) != 0 {
		t.Errorf("Parse(\"\"): got %v, %v, want empty, nil", got, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"inventory", []string{`entry 1 "inventory": want service=host:port`}},
		{"inventory=127.0.0.1", []string{`address "127.0.0.1"`, "addresses.http must be host:port"}},
		{"inventory=127.0.0.1:0", []string{"port must be 1-65535"}},
		{"Inventory=127.0.0.1:80", []string{"service must be a DNS label", `"Inventory"`}},
		{"inventory=udp://127.0.0.1:80", []string{`scheme must be http, grpc or admin, got "udp"`}},
		{"a=127.0.0.1:80;a=127.0.0.1:81", []string{`service "a" listed twice`}},
		{"a=127.0.0.1:x;b", []string{"entry 1", "entry 2"}}, // every problem at once
	} {
		got, err := static.Parse(tc.spec)
		if err == nil {
			t.Errorf("Parse(%q): got %v, nil, want an error", tc.spec, got)
			continue
		}
		if got != nil {
			t.Errorf("Parse(%q): got %v, want nil map with the error", tc.spec, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q): got %q, want it to contain %q", tc.spec, err, w)
			}
		}
	}
}

func TestFixedInstancerPassesOnlyReady(t *testing.T) {
	insts, err := static.Parse("inventory=127.0.0.1:8081,127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	list := insts["inventory"]
	list[0].Status = discovery.StatusCritical
	in := static.NewInstancer(list)
	defer in.Stop()
	got, err := in.Instances()
	if err != nil || len(got) != 1 || got[0].ID != "inventory-2" {
		t.Errorf("Instances: got %+v, %v, want inventory-2 only", got, err)
	}
}
