package catalog

import "time"

// Team is what the catalog knows of a team: the components it owns (their Owner), how
// they score, which rules they fail, DORA's keys pooled over them, and where to reach
// the team. It is an item of GET /api/v1/teams and the body of
// GET /api/v1/teams/{name}.
type Team struct {
	// Name is the team's name, the Owner of its components.
	Name string `json:"name"`
	// Score is the lowest score of its components that have one, -1 when none has.
	Score int `json:"score"`
	// Components lists its components, sorted by name.
	Components []TeamComponent `json:"components"`
	// Failing lists the rules its components fail, sorted by id, each with the
	// components failing it.
	Failing []TeamRule `json:"failing"`
	// DORA holds DORA's keys over WindowSeconds, every environment of every component
	// pooled.
	DORA DORA `json:"dora"`
	// WindowSeconds is the length of the window DORA and the components' DevOpsHealth
	// are computed over, ending now.
	WindowSeconds float64 `json:"windowSeconds"`
	// OnCall lists the distinct on-call links of its components, sorted.
	OnCall []string `json:"onCall"`
	// Links lists the distinct runbook, docs and dashboard links of its components,
	// sorted.
	Links []string `json:"links"`
}

// TeamComponent is one component of a [Team].
type TeamComponent struct {
	Name      string    `json:"name"`
	Tier      int       `json:"tier"`
	Lifecycle Lifecycle `json:"lifecycle"`
	// Score is the component's score (see [ComponentScorecard]), -1 without a scorecard.
	Score int `json:"score"`
	// Running reports whether an instance is registered; Instances counts them and
	// Healthy those passing or warning.
	Running   bool `json:"running"`
	Instances int  `json:"instances"`
	Healthy   int  `json:"healthy"`
	// Failing lists the ids of the rules it fails, sorted.
	Failing []string `json:"failing"`
	// DevOpsHealth is its built-in "DevOps health" scorecard.
	DevOpsHealth DevOpsHealth `json:"devopsHealth"`
}

// TeamRule is a rule failed by components of a team.
type TeamRule struct {
	// ID names the rule; Level is the most serious level a component failed it at.
	ID    string `json:"id"`
	Level Level  `json:"level"`
	// Components lists the components failing it, sorted.
	Components []string `json:"components"`
}

// DevOpsHealthScorecard is the name of the built-in scorecard computed from DORA's keys.
const DevOpsHealthScorecard = "DevOps health"

// DevOpsHealth is a component's (or a team's) built-in "DevOps health" scorecard: the
// rules of the catalog's DevOps health rule list checked against its DORA keys over a
// window. A rule whose key cannot be computed (no deployment, no commit time) is not
// applicable and left out of the score.
type DevOpsHealth struct {
	// Score is the weighted share of the applicable rules passed, 0 to 100; -1 when no
	// rule applies.
	Score int `json:"score"`
	// Passed lists the ids of the rules passed.
	Passed []string `json:"passed"`
	// Failed lists the rules failed, with what was measured.
	Failed []RuleResult `json:"failed"`
	// NotApplicable lists the ids of the rules that could not be checked.
	NotApplicable []string `json:"notApplicable"`
}

// RuleSummary is one rule of the scorecards view (GET /api/v1/rules): what it asks, how
// much it weighs, how to fix a failure, and which components pass and fail it.
type RuleSummary struct {
	// ID names the rule.
	ID string `json:"id"`
	// Scorecard is "compliance" for the rules Paved services evaluate themselves, or
	// [DevOpsHealthScorecard] for the rules computed from DORA's keys.
	Scorecard string `json:"scorecard"`
	// Title says in a few words what a compliant component has; Why what goes wrong
	// without it; Fix how to fix a failure. Empty for a rule the catalog does not know
	// (reported by an instance with another rule set).
	Title string `json:"title"`
	Why   string `json:"why,omitempty"`
	Fix   string `json:"fix"`
	// Level is required or recommended (compliance rules) or recommended (DevOps
	// health); Weight its share of the score.
	Level  string `json:"level"`
	Weight int    `json:"weight"`
	// Passing and Failing list the components that pass and fail it, sorted.
	Passing []string `json:"passing"`
	Failing []string `json:"failing"`
}

// ScorePoint is a component's score at a time, an item of its score history.
type ScorePoint struct {
	At    time.Time `json:"at"`
	Score int       `json:"score"`
}

// MaxScorePoints is how many points of score history a [History] keeps.
const MaxScorePoints = 500

// DORAPoint is DORA's keys over one step of a trend, the window ending at To.
type DORAPoint struct {
	To time.Time `json:"to"`
	DORA
}
