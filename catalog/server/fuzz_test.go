package server_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// fuzzWrite sends any body to a write route: the answer is never 5xx, and every error is
// problem+json.
func fuzzWrite(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	st := memory.New(memory.Options{})
	f.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if _, err := st.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		f.Fatal(err)
	}
	if _, err := st.PutInstance(ctx, storetest.Instance("orders", "i-1")); err != nil {
		f.Fatal(err)
	}
	// No fuzzed host name reaches a real DNS server: the fake resolver knows none.
	h := server.New(st, server.Options{AdminToken: adminToken, MaxBodyBytes: 4096, Resolver: fakeResolver{}})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequestWithContext(ctx, "PUT", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("got %d for %q, want no 5xx: %s", rec.Code, body, rec.Body)
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), catalog.ProblemContentType) {
			t.Fatalf("got Content-Type %q with %d, want problem+json", rec.Header().Get("Content-Type"), rec.Code)
		}
	})
}

func FuzzPutComponentHTTP(f *testing.F) {
	fuzzWrite(f, "/api/v1/components/orders",
		`{"name":"orders","owner":"team-a","type":"service","tier":2,"lifecycle":"production"}`,
		`{"name":"orders","name":"x"}`, `{"tier":1e99}`, `[]`, `{"labels":{"a":{"b":1}}}`)
}

func FuzzPutInstanceHTTP(f *testing.F) {
	fuzzWrite(f, "/api/v1/components/orders/instances/i-1",
		`{"version":"1","addresses":{"admin":"127.0.0.1:9090"},"startedAt":"2026-01-01T00:00:00Z","ttlSeconds":30,"status":"passing"}`,
		`{"addresses":{"admin":"[fe80::1]:80"}}`, `{"ttlSeconds":99999999999999999999}`)
}

func FuzzPutScorecardHTTP(f *testing.F) {
	fuzzWrite(f, "/api/v1/components/orders/scorecard",
		`{"instance":"i-1","ruleSetVersion":"1","score":50,"failed":[{"id":"a","level":"error"}]}`,
		`{"failed":[{"id":"a"},{"id":"a"}]}`)
}
