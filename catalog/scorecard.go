package catalog

import (
	"slices"
	"strings"
	"time"
)

// Level is how serious a failed compliance rule is.
type Level string

// The levels of a failed rule.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelInfo    Level = "info"
)

// Valid reports whether l is one of the defined levels.
func (l Level) Valid() bool { return l == LevelError || l == LevelWarning || l == LevelInfo }

// RuleResult is a compliance rule an instance failed.
type RuleResult struct {
	// ID names the rule, such as "readiness-check" (1-128 printable ASCII, no spaces).
	ID string `json:"id"`
	// Level is error, warning or info.
	Level Level `json:"level"`
	// Message says what is missing, at most 1024 characters.
	Message string `json:"message,omitempty"`
}

// Scorecard is the latest compliance report of one instance. Its JSON form is the body of
// PUT /api/v1/components/{name}/scorecard.
type Scorecard struct {
	// Component is the component's name. Required.
	Component string `json:"component"`
	// Instance is the id of the instance that evaluated the rules. Required.
	Instance string `json:"instance"`
	// RuleSetVersion is the version of the rule set evaluated (1-128 printable ASCII, no
	// spaces). Required.
	RuleSetVersion string `json:"ruleSetVersion"`
	// Score is the share of rules passed, 0 to 100.
	Score int `json:"score"`
	// Passed lists the ids of the rules passed.
	Passed []string `json:"passed,omitempty"`
	// Failed lists the rules failed.
	Failed []RuleResult `json:"failed,omitempty"`
	// ReportedAt is when the catalog received the report. The store sets it; a value sent
	// by a client is ignored.
	ReportedAt time.Time `json:"reportedAt,omitzero"`
}

// Validate returns nil, or a [*ValidationError] listing every problem of s.
func (s *Scorecard) Validate() error {
	var p problems
	checkDNSLabel(&p, "component", s.Component)
	if !IsInstanceID(s.Instance) {
		p.add("instance", "must be an instance id: 1-128 letters, digits, '.', '_' and '-', got %q", Clip(s.Instance))
	}
	if !isToken(s.RuleSetVersion) {
		p.add("ruleSetVersion", "is required: 1-128 printable ASCII characters without spaces, got %q", Clip(s.RuleSetVersion))
	}
	if s.Score < 0 || s.Score > 100 {
		p.add("score", "must be between 0 and 100, got %d", s.Score)
	}
	ruleID := func(p *problems, f, id string) {
		if !isToken(id) {
			p.add(f, "must be a rule id: 1-128 printable ASCII characters without spaces, got %q", Clip(id))
		}
	}
	checkList(&p, "passed", s.Passed, ruleID)
	if len(s.Failed) > MaxListItems {
		p.add("failed", "at most %d items, got %d", MaxListItems, len(s.Failed))
	} else {
		passed := make(map[string]bool, len(s.Passed))
		for _, id := range s.Passed {
			passed[id] = true
		}
		seen := make(map[string]int, len(s.Failed))
		for i, r := range s.Failed {
			f := index("failed", i)
			if j, dup := seen[r.ID]; dup {
				p.add(f+".id", "duplicate of %s", index("failed", j))
			} else {
				seen[r.ID] = i
				ruleID(&p, f+".id", r.ID)
				if passed[r.ID] {
					p.add(f+".id", "rule %q is also listed as passed", Clip(r.ID))
				}
			}
			if !r.Level.Valid() {
				p.add(f+".level", "must be one of error, warning, info, got %q", Clip(string(r.Level)))
			}
			checkText(&p, f+".message", r.Message, MaxMetadataValue)
		}
	}
	return p.err()
}

// ComponentScorecard is a component's compliance: the latest scorecard of each of its
// instances and the component's score. It is the body of
// GET /api/v1/components/{name}/scorecard.
type ComponentScorecard struct {
	// Component is the component's name.
	Component string `json:"component"`
	// Score is the component's score, see [ComponentScore]; -1 when no instance reported.
	Score int `json:"score"`
	// Instances holds the latest scorecard of each instance, sorted by instance id. When
	// the catalog has a scorecards file, each card is as the platform team's scorecards
	// score it (see Scorecards).
	Instances []Scorecard `json:"instances"`
	// Failing lists the rules failed by at least one instance, sorted by id, each at the
	// most serious level an instance failed it with (and that instance's message); see
	// [FailingRules].
	Failing []RuleResult `json:"failing"`
	// Scorecards names the platform team's scorecards that scored the instances' cards,
	// sorted; empty when the cards are as the instances reported them.
	Scorecards []string `json:"scorecards,omitempty"`
	// Retained is set when no live instance has a scorecard and Instances holds instead
	// the last card reported in each environment by instances that have gone, so that a
	// component that is not running keeps its score.
	Retained bool `json:"retained,omitempty"`
}

// severity orders levels: error above warning above info.
func severity(l Level) int {
	switch l {
	case LevelError:
		return 3
	case LevelWarning:
		return 2
	case LevelInfo:
		return 1
	}
	return 0
}

// FailingRules returns the rules failed in any of cards, sorted by id: each at the most
// serious level it was failed with, with the message of the first card (in the order
// given) that failed it at that level. It returns an empty, non-nil slice when no rule
// fails.
func FailingRules(cards []Scorecard) []RuleResult {
	byID := map[string]RuleResult{}
	for _, c := range cards {
		for _, r := range c.Failed {
			if old, ok := byID[r.ID]; !ok || severity(r.Level) > severity(old.Level) {
				byID[r.ID] = r
			}
		}
	}
	out := make([]RuleResult, 0, len(byID))
	for _, r := range byID {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RuleResult) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ComponentScore is the score of a component whose instances reported cards: the lowest
// instance score, since the weakest copy is what users may hit; -1 when cards is empty.
func ComponentScore(cards []Scorecard) int {
	if len(cards) == 0 {
		return -1
	}
	low := cards[0].Score
	for _, c := range cards[1:] {
		low = min(low, c.Score)
	}
	return low
}
