package catalog

import (
	"fmt"
	"time"
)

// DevOpsRule is a rule of the built-in "DevOps health" scorecard
// ([DevOpsHealthScorecard]), checked against a component's DORA keys over a window.
type DevOpsRule struct {
	// ID, Title, Why and Fix are as a compliance rule's: its name, what a healthy
	// component has, what goes wrong without it, how to fix a failure.
	ID, Title, Why, Fix string
	// Weight is the rule's share of the scorecard's score.
	Weight int
	// check returns the outcome and, for a failure, what was measured.
	check func(d DORA) (devopsOutcome, string)
}

// devopsOutcome is what a DevOps health rule found.
type devopsOutcome int

const (
	devopsPass devopsOutcome = iota
	devopsFail
	devopsNotApplicable // the key it checks could not be computed
)

// Check checks d: applicable is false when the key the rule checks could not be
// computed (no deployment, no commit time); message says what was measured when it
// fails.
func (r DevOpsRule) Check(d DORA) (applicable, passed bool, message string) {
	o, msg := r.check(d)
	return o != devopsNotApplicable, o == devopsPass, msg
}

// Thresholds of the DevOps health rules: DORA's "high performance" cluster.
const (
	devopsMinDeploysPerWeek = 1
	devopsMaxLeadTime       = 7 * 24 * time.Hour
	devopsMaxChangeFailure  = 0.15
	devopsMaxTimeToRestore  = 24 * time.Hour
)

// DevOpsRules returns the rules of the built-in "DevOps health" scorecard, in a fresh
// slice.
func DevOpsRules() []DevOpsRule {
	return []DevOpsRule{
		{
			ID: "deploys-weekly", Title: "Deploys at least once a week",
			Why:    "Small, frequent deployments are easier to review, to test and to roll back than rare big ones.",
			Fix:    "Ship smaller changes more often: automate the pipeline from merge to production so that a deployment needs nobody's time.",
			Weight: 2,
			check: func(d DORA) (devopsOutcome, string) {
				perWeek := d.DeploymentsPerDay * 7
				if perWeek >= devopsMinDeploysPerWeek {
					return devopsPass, ""
				}
				return devopsFail, fmt.Sprintf("%.2f deployments a week, want %d or more", perWeek, devopsMinDeploysPerWeek)
			},
		},
		{
			ID: "lead-time-under-a-week", Title: "Changes reach production within a week",
			Why:    "A long lead time leaves fixes waiting and makes every change bigger.",
			Fix:    "Merge to main often and deploy from it; build with the VCS stamp (go build records vcs.time) so that the catalog can measure it.",
			Weight: 1,
			check: func(d DORA) (devopsOutcome, string) {
				if d.LeadTimeSeconds == nil {
					return devopsNotApplicable, "no deployment with a known commit time"
				}
				lt := time.Duration(*d.LeadTimeSeconds * float64(time.Second))
				if lt <= devopsMaxLeadTime {
					return devopsPass, ""
				}
				return devopsFail, fmt.Sprintf("median lead time %s, want at most %s", lt.Round(time.Minute), devopsMaxLeadTime)
			},
		},
		{
			ID: "change-failure-under-15", Title: "At most 15% of deployments fail",
			Why:    "Deployments that are rolled back or break the service cost users and the team's time.",
			Fix:    "Test before deploying, roll out gradually and watch readiness; find the cause of each rolled-back deployment.",
			Weight: 2,
			check: func(d DORA) (devopsOutcome, string) {
				if d.ChangeFailureRate == nil {
					return devopsNotApplicable, "no deployment in the window"
				}
				if *d.ChangeFailureRate <= devopsMaxChangeFailure {
					return devopsPass, ""
				}
				return devopsFail, fmt.Sprintf("%d of %d deployments failed (%.0f%%), want at most %.0f%%",
					d.FailedDeployments, d.Deployments, *d.ChangeFailureRate*100, devopsMaxChangeFailure*100)
			},
		},
		{
			ID: "restores-within-a-day", Title: "Service is restored within a day",
			Why:    "The longer an incident lasts, the more users it hurts.",
			Fix:    "Keep the runbook and the on-call link current, alert on readiness, and make rolling back one command.",
			Weight: 2,
			check: func(d DORA) (devopsOutcome, string) {
				if d.Incidents == 0 {
					return devopsPass, ""
				}
				if d.TimeToRestoreSeconds == nil {
					return devopsFail, fmt.Sprintf("%d incidents, none restored", d.Incidents)
				}
				ttr := time.Duration(*d.TimeToRestoreSeconds * float64(time.Second))
				if ttr <= devopsMaxTimeToRestore {
					return devopsPass, ""
				}
				return devopsFail, fmt.Sprintf("median time to restore %s, want at most %s", ttr.Round(time.Minute), devopsMaxTimeToRestore)
			},
		},
	}
}

// EvaluateDevOpsHealth scores DORA keys by the rules of [DevOpsRules].
func EvaluateDevOpsHealth(d DORA) DevOpsHealth {
	out := DevOpsHealth{Score: -1, Passed: []string{}, Failed: []RuleResult{}, NotApplicable: []string{}}
	total, passed := 0, 0
	for _, r := range DevOpsRules() {
		st, msg := r.check(d)
		switch st {
		case devopsPass:
			total += r.Weight
			passed += r.Weight
			out.Passed = append(out.Passed, r.ID)
		case devopsFail:
			total += r.Weight
			out.Failed = append(out.Failed, RuleResult{ID: r.ID, Level: LevelWarning, Message: msg})
		default:
			out.NotApplicable = append(out.NotApplicable, r.ID)
		}
	}
	if total > 0 {
		out.Score = passed * 100 / total
	}
	return out
}
