package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// A heartbeat is a PUT with If-Match: *: it refreshes a registered instance and fails
// with 412 (problem+json) for one the catalog does not hold, writing nothing; a plain PUT
// still registers.
func TestHeartbeatIfMatch(t *testing.T) {
	e := newEnv(t)
	e.seed() // orders/i-1 registered
	star := http.Header{"If-Match": {"*"}}
	path := "/api/v1/components/orders/instances/"

	r := e.doHeader("PUT", path+"i-1", tokenA, star, storetest.Instance("orders", "i-1"))
	expect(t, r, 200)
	var hb catalog.Instance
	if err := json.Unmarshal(r.body, &hb); err != nil || hb.ID != "i-1" || hb.LastHeartbeat.IsZero() {
		t.Fatalf("got %+v, %v, want i-1 with its heartbeat time", hb, err)
	}

	cases := []struct {
		name, path, token string
		header            http.Header
		status            int
		detail            string
	}{
		{"never registered", path + "i-9", tokenA, star, 412, `instance "orders/i-9" is not registered`},
		{"component unknown", "/api/v1/components/nope/instances/i-1", tokenA, star, 412, `instance "nope/i-1" is not registered`},
		{"entity tag never matches", path + "i-1", tokenA, http.Header{"If-Match": {`"abc"`}}, 412, `If-Match "\"abc\"" does not match`},
		{"no token", path + "i-1", "", star, 401, "bearer token is required"},
		{"other team", path + "i-1", tokenB, star, 403, `may not change a component owned by "team-a"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			comp, id, _ := strings.Cut(strings.TrimPrefix(tc.path, "/api/v1/components/"), "/instances/")
			r := e.doHeader("PUT", tc.path, tc.token, tc.header, storetest.Instance(comp, id))
			expect(t, r, tc.status)
			if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("got detail %q, want it to contain %q", p.Detail, tc.detail)
			}
		})
	}
	if _, err := e.st.GetInstance(t.Context(), "orders", "i-9"); err == nil {
		t.Fatal("a failed heartbeat registered orders/i-9")
	}

	// Deregistered: the heartbeat no longer re-creates it; a plain PUT registers again.
	expect(t, e.do("DELETE", path+"i-1", tokenA, nil), 204)
	expect(t, e.doHeader("PUT", path+"i-1", tokenA, star, storetest.Instance("orders", "i-1")), 412)
	if _, err := e.st.GetInstance(t.Context(), "orders", "i-1"); err == nil {
		t.Fatal("a heartbeat after deregistration re-created orders/i-1")
	}
	expect(t, e.do("PUT", path+"i-1", tokenA, storetest.Instance("orders", "i-1")), 200)
	expect(t, e.doHeader("PUT", path+"i-1", tokenA, star, storetest.Instance("orders", "i-1")), 200)
}
