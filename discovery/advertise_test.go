package discovery_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/paved-road/paved/discovery"
)

func TestAdvertiseAddr(t *testing.T) {
	hostname, _ := os.Hostname()
	for _, tc := range []struct {
		listen, host, want string
	}{
		{"10.0.0.7:8080", "", "10.0.0.7:8080"},
		{"web.internal:8080", "10.0.0.9", "web.internal:8080"},
		{":8080", "10.0.0.9", "10.0.0.9:8080"},
		{"0.0.0.0:8080", "10.0.0.9", "10.0.0.9:8080"},
		{"[::]:9090", "fd00::7", "[fd00::7]:9090"},
		{":8080", "", hostname + ":8080"},
	} {
		got, err := discovery.AdvertiseAddr(tc.listen, tc.host)
		if err != nil || got != tc.want {
			t.Errorf("AdvertiseAddr(%q, %q): got %q, %v, want %q, nil", tc.listen, tc.host, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ listen, host, want string }{
		{"8080", "", `listen address "8080"`},
		{":8080", "0.0.0.0", "unspecified"},
		{":8080", "bad host!", "host name may hold only"},
	} {
		if _, err := discovery.AdvertiseAddr(tc.listen, tc.host); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AdvertiseAddr(%q, %q): got %v, want an error containing %q", tc.listen, tc.host, err, tc.want)
		}
	}
}

func TestNewInstanceID(t *testing.T) {
	a, b := discovery.NewInstanceID(), discovery.NewInstanceID()
	if a == b {
		t.Errorf("two ids: got %q twice, want different ids", a)
	}
	if !regexp.MustCompile(`-[0-9a-f]{8}$`).MatchString(a) {
		t.Errorf("id %q: want it to end with 8 hex digits", a)
	}
	in := testInstance()
	in.ID = a
	if err := in.Validate(); err != nil {
		t.Errorf("id %q: got %v, want a valid instance id", a, err)
	}
}
