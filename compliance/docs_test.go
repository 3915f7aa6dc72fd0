package compliance_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
)

// docRow is the line docs/compliance.md must hold for rule r.
func docRow(r compliance.Rule) string {
	return fmt.Sprintf("| `%s` | %s | %d | %s | %s | %s |", r.ID, r.Level, r.Weight, r.Title, r.Why, r.Fix)
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "compliance.md"))
	if err != nil {
		t.Fatalf("docs/compliance.md: %v", err)
	}
	return string(b)
}

// TestDocsListEveryRule fails when docs/compliance.md misses a rule, lists a rule that no
// longer exists, or documents one differently from the code (level, weight, title, why,
// fix), or names another rule set version.
func TestDocsListEveryRule(t *testing.T) {
	doc := readDoc(t)
	if !strings.Contains(doc, "Rule set version: `"+compliance.DefaultVersion+"`") {
		t.Errorf("docs/compliance.md: want the line \"Rule set version: `%s`\"", compliance.DefaultVersion)
	}
	// The rules table is in the "## Rules" section, up to the next section.
	_, rules, ok := strings.Cut(doc, "\n## Rules\n")
	if !ok {
		t.Fatalf("docs/compliance.md: want a \"## Rules\" section")
	}
	rules, _, _ = strings.Cut(rules, "\n## ")
	rowID := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	documented := map[string]bool{}
	for _, m := range rowID.FindAllStringSubmatch(rules, -1) {
		documented[m[1]] = true
	}
	lines := map[string]bool{}
	for l := range strings.SplitSeq(rules, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, r := range compliance.DefaultRules() {
		if !documented[r.ID] {
			t.Errorf("docs/compliance.md: rule %q is missing; add the row\n%s", r.ID, docRow(r))
		} else if !lines[docRow(r)] {
			t.Errorf("docs/compliance.md: the row of rule %q differs from the code; want\n%s", r.ID, docRow(r))
		}
		delete(documented, r.ID)
	}
	for id := range documented {
		t.Errorf("docs/compliance.md: rule %q is documented but is not a rule of rule set %s", id, compliance.DefaultVersion)
	}
}

// TestDocsScorecardExampleParses parses every ```json block of docs/compliance.md that
// holds a "scorecards" key, so the documented format stays valid.
func TestDocsScorecardExampleParses(t *testing.T) {
	doc := readDoc(t)
	block := regexp.MustCompile("(?s)```json\n(.*?)```")
	n := 0
	for _, m := range block.FindAllStringSubmatch(doc, -1) {
		if !strings.Contains(m[1], `"scorecards"`) {
			continue
		}
		n++
		if _, err := compliance.ParseScorecards(strings.NewReader(m[1]), compliance.DefaultRuleSet()); err != nil {
			t.Errorf("docs/compliance.md scorecard example %d: got %v, want nil", n, err)
		}
	}
	if n == 0 {
		t.Errorf("docs/compliance.md: got no scorecard example, want one")
	}
}

// TestDocsScoreFormula keeps the documented weights total in step with the rules.
func TestDocsScoreFormula(t *testing.T) {
	total := 0
	for _, r := range compliance.DefaultRules() {
		total += r.Weight
	}
	if doc := readDoc(t); !strings.Contains(doc, "weights total "+strconv.Itoa(total)) {
		t.Errorf("docs/compliance.md: want \"weights total %d\"", total)
	}
}
