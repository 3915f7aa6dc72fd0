package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// BenchmarkHeartbeatAPIs measures what publishing APIs adds to a heartbeat: the
// heartbeat of an instance whose component publishes three APIs, all stored, against
// the baseline of one whose component publishes none, in the same run (handler
// called in process, so the figures are the catalog's work, not the network's). Its
// ratio is in docs/apis.md:
//
//	go test ./catalog/server -run '^$' -bench HeartbeatAPIs -count 5
func BenchmarkHeartbeatAPIs(b *testing.B) {
	st := memory.New(memory.Options{})
	defer st.Close()
	srv := server.New(st, server.Options{AdminToken: adminToken, Development: true})
	ctx := context.Background()
	plain := storetest.Component("plain", "team-a")
	withAPIs := storetest.Component("withapis", "team-a")
	for i := range 3 {
		def := fmt.Appendf(nil, `{"openapi":"3.1.0","info":{"title":"t","version":"1.%d.0"},"paths":{}}`, i)
		a := catalog.API{Name: fmt.Sprintf("api-%d", i), Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI, Digest: catalog.Digest(def), Size: len(def)}
		withAPIs.ProvidesAPIs = append(withAPIs.ProvidesAPIs, a.Name)
		withAPIs.APIs = append(withAPIs.APIs, a)
		if _, err := st.PutAPIVersion(ctx, catalog.APIVersion{API: a, Provider: "withapis", PublishedAt: time.Now()}, def); err != nil {
			b.Fatal(err)
		}
	}
	beat := func(b *testing.B, comp string) {
		in := storetest.Instance(comp, "i-1")
		in.TTLSeconds = 3600
		body, _ := json.Marshal(in)
		do := func(ifMatch string) {
			req := httptest.NewRequest("PUT", "/api/v1/components/"+comp+"/instances/i-1", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			if ifMatch != "" {
				req.Header.Set("If-Match", ifMatch)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("got %d: %s", rec.Code, rec.Body)
			}
		}
		do("") // registers; the digests are then known to be stored
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			do("*")
		}
	}
	for _, c := range []catalog.Component{plain, withAPIs} {
		if _, err := st.PutComponent(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("baseline-no-apis", func(b *testing.B) { beat(b, "plain") })
	b.Run("three-apis-stored", func(b *testing.B) { beat(b, "withapis") })
}
