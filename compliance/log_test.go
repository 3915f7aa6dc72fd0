package compliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
)

func TestLog(t *testing.T) {
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	f.Links.Runbook = ""
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	var buf bytes.Buffer
	rep.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))

	type record struct {
		Level, Msg, RuleSet, Rule, RuleLevel, Message, Fix string
		Score                                              int
		Compliant                                          bool
	}
	var recs []record
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3 (summary and two failures):\n%s", len(recs), buf.String())
	}
	if s := recs[0]; s.Level != "WARN" || s.Msg != rep.Summary() || s.RuleSet != compliance.DefaultVersion || s.Score != rep.Score || s.Compliant {
		t.Errorf("summary record: got %+v, want WARN with the summary, rule set, score, compliant false", s)
	}
	breaker, _ := compliance.DefaultRuleSet().Rule("dependency-breaker")
	if r := recs[1]; r.Level != "WARN" || r.Rule != "dependency-breaker" || r.RuleLevel != "required" || r.Message != `dependency "inventory" has no circuit breaker` || r.Fix != breaker.Fix {
		t.Errorf("required failure: got %+v, want WARN dependency-breaker with its message and fix", r)
	}
	if r := recs[2]; r.Level != "INFO" || r.Rule != "runbook-link" || r.RuleLevel != "recommended" {
		t.Errorf("recommended failure: got %+v, want INFO runbook-link", r)
	}

	buf.Reset()
	compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet()).Log(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	if got := strings.Count(buf.String(), "\n"); got != 1 || !strings.Contains(buf.String(), "level=INFO") {
		t.Errorf("compliant report: got %q, want one INFO line", buf.String())
	}
	rep.Log(context.Background(), nil) // a nil logger discards, and must not panic
}
