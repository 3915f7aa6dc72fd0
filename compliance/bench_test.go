package compliance_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/paved-road/paved/compliance"
)

// BenchmarkEvaluate: the default rules over a production service's facts, once per
// service start. Target: well under 100µs, invisible next to the start itself.
func BenchmarkEvaluate(b *testing.B) {
	set, f := compliance.DefaultRuleSet(), goodFacts()
	b.ReportAllocs()
	for b.Loop() {
		compliance.Evaluate(f, set)
	}
}

// BenchmarkHash: what a service pays to tell whether its report changed.
func BenchmarkHash(b *testing.B) {
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	b.ReportAllocs()
	for b.Loop() {
		_ = rep.Hash()
	}
}

// BenchmarkScorecardApply: the catalog re-scoring one received report with the three
// scorecards of testdata/scorecards.json. Target: under 50µs, so 10,000 components
// re-score in under half a second.
func BenchmarkScorecardApply(b *testing.B) {
	data, err := os.Open(filepath.Join("testdata", "scorecards.json"))
	if err != nil {
		b.Fatal(err)
	}
	defer data.Close()
	file, err := compliance.ParseScorecards(data, compliance.DefaultRuleSet())
	if err != nil {
		b.Fatal(err)
	}
	f := goodFacts()
	f.Labels["streaming"] = "true"
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	tgt := f.Target()
	b.ReportAllocs()
	for b.Loop() {
		if n := len(file.Apply(rep, tgt)); n != 3 {
			b.Fatalf("got %d reports, want 3", n)
		}
	}
}

// BenchmarkHandlerJSON: one GET /compliance, in process (no socket), JSON form.
func BenchmarkHandlerJSON(b *testing.B) {
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	h := compliance.NewHandler(func() (compliance.Report, bool) { return rep, true })
	req := httptest.NewRequest(http.MethodGet, "/compliance", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("got %d, want 200", w.Code)
		}
	}
}
