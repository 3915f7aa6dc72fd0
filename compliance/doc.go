// Package compliance says what a compliant Paved service has, and proves it from what the
// running service actually wired rather than from what a team typed into a portal.
//
// A [Rule] has a stable id (such as "dependency-breaker"), a title, why it matters, how to
// fix a failure, a [Level] ([Required] or [Recommended]), a weight and a check over
// [Facts]. The service fills Facts from what it set up: its readiness and liveness checks,
// whether /metrics is served and where, its trace exporter, its listen addresses, pprof,
// each outbound client it built, its shutdown and server timeouts, its registry backend,
// and the catalog metadata it registers with. [Evaluate] runs a [RuleSet] (by default
// [DefaultRuleSet], version [DefaultVersion], documented rule by rule in
// docs/compliance.md) over the facts and returns a [Report]:
//
//	rep := compliance.Evaluate(facts, compliance.DefaultRuleSet())
//	rep.Log(ctx, logger) // the one-line summary, then each failure with its fix
//	if err := rep.Enforce(); err != nil { // COMPLIANCE_MODE=enforce
//		return err // lists each failed required rule with its fix
//	}
//
// # Scoring
//
// A rule passes, fails, or does not apply (a dependency rule for a service without
// dependencies, the pprof rule in development). The score is
//
//	floor(100 × weight of passed rules / weight of passed and failed rules)
//
// with not-applicable rules left out, and 100 when no rule applies; only a report with no
// failure scores 100. A report is compliant ([Report.Compliant]) when no required rule
// failed, whatever its score.
//
// # Scorecards
//
// A platform team re-levels and re-weights rules per tier, lifecycle, environment or
// label in a JSON scorecard file ([ParseScorecards], format in docs/compliance.md), as
// Atlassian Compass scorecards do. The catalog applies each matching [Scorecard] to the
// reports services send ([ScorecardFile.Apply]); no rule is re-run.
//
// # Serving
//
// [Handler] serves the current report at the admin /compliance endpoint, as JSON or as
// text for a person ([Report.WriteText]). [Report.Hash] changes exactly when the report
// does, so a service re-sends it to the catalog only then.
//
// # Concurrency and zero values
//
// Facts, Report, RuleSet, Scorecard and ScorecardFile are plain values, safe for
// concurrent reads. A RuleSet is immutable. The zero Facts is a service of which nothing
// was observed (it fails most rules); the zero RuleSet has no rules and scores 100; the
// zero Selector matches every component. Handler is safe for concurrent use when the
// func it serves is. The package starts no goroutines and imports nothing else of Paved but the vocabulary
// packages problem and catalog (types, no I/O).
package compliance
