package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Log formats accepted by [NewLogger].
const (
	LogFormatJSON = "json"
	LogFormatText = "text"
)

// LogOptions configures [NewLogger]. The zero value logs JSON at level info.
type LogOptions struct {
	// Format is LogFormatJSON (the default when empty) or LogFormatText.
	Format string
	// Level is the minimum level logged; nil means slog.LevelInfo. Pass a *slog.LevelVar
	// to change the level at run time.
	Level slog.Leveler
	// AddSource adds the source file and line of the log call to every record.
	AddSource bool
}

// NewLogger returns a logger writing to w in the format of opts, with attrs (typically the
// service name, version and instance id) on every record, and the trace_id and span_id of
// the record's context added by [NewTraceHandler]. An unknown format is an error naming it.
func NewLogger(w io.Writer, opts LogOptions, attrs ...slog.Attr) (*slog.Logger, error) {
	hopts := &slog.HandlerOptions{Level: opts.Level, AddSource: opts.AddSource}
	var h slog.Handler
	switch strings.ToLower(opts.Format) {
	case "", LogFormatJSON:
		h = slog.NewJSONHandler(w, hopts)
	case LogFormatText:
		h = slog.NewTextHandler(w, hopts)
	default:
		return nil, fmt.Errorf("telemetry: log format %q is not valid: use %q or %q", opts.Format, LogFormatJSON, LogFormatText)
	}
	if len(attrs) > 0 {
		h = h.WithAttrs(attrs)
	}
	return slog.New(NewTraceHandler(h)), nil
}

// ParseLevel parses a level name as slog does: debug, info, warn, error, each optionally
// followed by an offset such as "debug-2" or "error+4"; case does not matter.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("telemetry: log level %q is not valid: use debug, info, warn or error", s)
	}
	return l, nil
}

// OrDiscard returns l, or a logger that discards everything when l is nil. Every Paved
// package that takes a *slog.Logger treats nil this way.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// TraceHandler is a slog.Handler that adds the trace_id and span_id of the span in a
// record's context (when the span context is valid) before passing the record on.
// Build one with [NewTraceHandler].
type TraceHandler struct {
	next slog.Handler
}

// NewTraceHandler wraps next so that every record logged with a context holding a valid
// span gets trace_id and span_id attributes, as hex strings in the W3C form.
func NewTraceHandler(next slog.Handler) *TraceHandler {
	return &TraceHandler{next: next}
}

// Enabled reports whether the wrapped handler handles records at level l.
func (h *TraceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle adds the trace and span ids from ctx, if any, and passes r on.
func (h *TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r = r.Clone()
			r.AddAttrs(
				slog.String("trace_id", sc.TraceID().String()),
				slog.String("span_id", sc.SpanID().String()),
			)
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a TraceHandler over the wrapped handler with attrs added.
func (h *TraceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &TraceHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a TraceHandler over the wrapped handler with the group opened.
func (h *TraceHandler) WithGroup(name string) slog.Handler {
	return &TraceHandler{next: h.next.WithGroup(name)}
}
