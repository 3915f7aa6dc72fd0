package compliance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
)

// FuzzParseScorecards: any input yields a file or a *ScorecardError, never a panic, and a
// parsed file's scorecards apply without panicking.
func FuzzParseScorecards(f *testing.F) {
	good, err := os.ReadFile(filepath.Join("testdata", "scorecards.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(good))
	f.Add(`{"version":1,"scorecards":[{"name":"a","rules":[{"id":"owner-set","level":"off"}]}]}`)
	f.Add(`{"version":1,"scorecards":[{"name":"a","appliesTo":{"tiers":[1e3],"labels":{"":"x"}}}]}`)
	f.Add(`{"version": 1, "version": 2}`)
	f.Add(`[[[[]]]]`)
	set := compliance.DefaultRuleSet()
	rep := compliance.Evaluate(compliance.Facts{}, set)
	f.Fuzz(func(t *testing.T, in string) {
		file, err := compliance.ParseScorecards(strings.NewReader(in), set)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "compliance: invalid scorecard file: ") {
				t.Fatalf("error: got %q, want the package prefix", err)
			}
			return
		}
		for _, r := range file.Apply(rep, compliance.Target{}) {
			if r.Score < 0 || r.Score > 100 {
				t.Fatalf("score: got %d, want 0 to 100", r.Score)
			}
		}
	})
}
