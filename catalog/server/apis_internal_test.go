package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// The fetch of a definition dials only addresses the policy allows, checked on the
// address dialled: an admin address that the policy no longer allows (or a name that
// now resolves elsewhere) is not read.
func TestAPIFetchDialsOnlyAllowedAddresses(t *testing.T) {
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) }))
	defer admin.Close()

	refusing := newAPIs(newAddressPolicy(Options{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}))
	resp, err := refusing.client.Get(admin.URL + "/apis/x")
	if err == nil {
		resp.Body.Close()
		t.Fatal("a loopback admin address under CATALOG_ALLOWED_NETWORKS=10.0.0.0/8: got an answer, want the dial refused")
	}
	if !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "CATALOG_ALLOWED_NETWORKS=10.0.0.0/8") {
		t.Fatalf("got %v, want the refusal to say loopback and name the policy", err)
	}
	allowing := newAPIs(newAddressPolicy(Options{Development: true}))
	resp, err = allowing.client.Get(admin.URL + "/apis/x")
	if err != nil {
		t.Fatalf("the development policy: got %v, want the answer", err)
	}
	resp.Body.Close()
}
