package discovery_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/discovery"
)

func TestInstanceValidate(t *testing.T) {
	if err := testInstance().Validate(); err != nil {
		t.Fatalf("valid instance: got %v, want nil", err)
	}
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name   string
		modify func(*discovery.Instance)
		field  string
		want   string
	}{
		{"no id", func(i *discovery.Instance) { i.ID = "" }, "id", "is required"},
		{"id with slash", func(i *discovery.Instance) { i.ID = "a/b" }, "id", `got "a/b"`},
		{"id too long", func(i *discovery.Instance) { i.ID = long }, "id", "1-128"},
		{"upper-case service", func(i *discovery.Instance) { i.Service = "Orders" }, "service", `got "Orders"`},
		{"no version", func(i *discovery.Instance) { i.Version = "" }, "version", "is required"},
		{"version with space", func(i *discovery.Instance) { i.Version = "1 0" }, "version", "without spaces"},
		{"no address", func(i *discovery.Instance) { i.Addresses = discovery.Addresses{} }, "addresses", "at least one"},
		{"no port", func(i *discovery.Instance) { i.Addresses.HTTP = "127.0.0.1" }, "addresses.http", "host:port"},
		{"bad port", func(i *discovery.Instance) { i.Addresses.GRPC = "127.0.0.1:70000" }, "addresses.grpc", "1-65535"},
		{"unspecified host", func(i *discovery.Instance) { i.Addresses.Admin = "0.0.0.0:9090" }, "addresses.admin", "unspecified"},
		{"empty host", func(i *discovery.Instance) { i.Addresses.HTTP = ":8080" }, "addresses.http", "must name a host"},
		{"bad status", func(i *discovery.Instance) { i.Status = "up" }, "status", `got "up"`},
		{"ttl too short", func(i *discovery.Instance) { i.TTL = time.Millisecond }, "ttl", "between 1s and 24h0m0s"},
		{"bad metadata key", func(i *discovery.Instance) { i.Metadata = map[string]string{"a.b": "x"} }, "metadata", `got "a.b"`},
		{"metadata value too long", func(i *discovery.Instance) { i.Metadata = map[string]string{"k": strings.Repeat("v", 513)} }, "metadata.k", "at most 512 bytes"},
	} {
		in := testInstance()
		tc.modify(&in)
		err := in.Validate()
		var ve *discovery.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 {
			t.Errorf("%s: got %v, want one problem", tc.name, err)
			continue
		}
		if p := ve.Problems[0]; p.Field != tc.field || !strings.Contains(p.Message, tc.want) {
			t.Errorf("%s: got %s %q, want field %s and a message containing %q", tc.name, p.Field, p.Message, tc.field, tc.want)
		}
		if !strings.HasPrefix(err.Error(), "discovery: invalid instance: "+tc.field) {
			t.Errorf("%s: Error() got %q, want the field named after the prefix", tc.name, err)
		}
	}
	var ve *discovery.ValidationError
	if err := (discovery.Instance{}).Validate(); !errors.As(err, &ve) || len(ve.Problems) != 5 {
		t.Errorf("zero instance: got %v, want 5 problems (id, service, version, addresses, status)", err)
	}
	if err := (discovery.Instance{}).Validate(); len(err.Error()) > 600 {
		t.Errorf("error length: got %d, want a readable message", len(err.Error()))
	}
	huge := testInstance()
	huge.ID = strings.Repeat("a", 10000) + "/"
	if err := huge.Validate(); err == nil || len(err.Error()) > 400 {
		t.Errorf("huge bad id: got %d bytes of error, want it clipped", len(err.Error()))
	}
}

func TestInstanceJSON(t *testing.T) {
	in := testInstance()
	in.TTL = 9 * time.Second
	in.Metadata = map[string]string{"zone": "a"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"orders-1","service":"orders","version":"1.0.0","addresses":{"http":"127.0.0.1:8080"},"status":"passing","metadata":{"zone":"a"}}`
	if string(b) != want {
		t.Errorf("JSON: got %s, want %s", b, want)
	}
}

func TestInstanceReady(t *testing.T) {
	for _, tc := range []struct {
		s            discovery.Status
		allowWarning bool
		want         bool
	}{
		{discovery.StatusPassing, false, true},
		{discovery.StatusWarning, false, false},
		{discovery.StatusWarning, true, true},
		{discovery.StatusCritical, true, false},
		{"", true, false},
	} {
		in := testInstance()
		in.Status = tc.s
		if got := in.Ready(tc.allowWarning); got != tc.want {
			t.Errorf("Ready(%q, allowWarning=%v): got %v, want %v", tc.s, tc.allowWarning, got, tc.want)
		}
	}
}

func TestValidateServiceName(t *testing.T) {
	for name, ok := range map[string]bool{"inventory": true, "a-1": true, "": false, "Orders": false, "-x": false, "x-": false, "1x": true, "x_1": false} {
		if err := discovery.ValidateServiceName(name); (err == nil) != ok {
			t.Errorf("%q: got %v, want valid=%v", name, err, ok)
		}
	}
}
