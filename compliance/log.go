package compliance

import (
	"context"
	"log/slog"
)

// Log writes r to logger as the service does at start: the one-line [Report.Summary]
// (at Info when compliant, else Warn) with attributes ruleSet, score and compliant,
// then one record per failed rule (Warn for required, Info for recommended) with
// attributes rule, ruleLevel (required or recommended), message and fix. A nil logger discards.
func (r Report) Log(ctx context.Context, logger *slog.Logger) {
	if logger == nil {
		return
	}
	level := slog.LevelInfo
	if !r.Compliant() {
		level = slog.LevelWarn
	}
	logger.LogAttrs(ctx, level, r.Summary(),
		slog.String("ruleSet", r.RuleSetVersion),
		slog.Int("score", r.Score),
		slog.Bool("compliant", r.Compliant()),
	)
	for _, f := range r.Failures() {
		level := slog.LevelInfo
		if f.Level == Required {
			level = slog.LevelWarn
		}
		logger.LogAttrs(ctx, level, "compliance rule failed",
			slog.String("rule", f.ID),
			slog.String("ruleLevel", string(f.Level)),
			slog.String("message", f.Message),
			slog.String("fix", f.Fix),
		)
	}
}
