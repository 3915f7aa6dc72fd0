package resilience_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// recordingHandler is a slog.Handler keeping the transitions it is told.
type recordingHandler struct {
	mu   sync.Mutex
	recs []string
}

func newLogger(h *recordingHandler) *slog.Logger { return slog.New(h) }

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	var from, to string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "from":
			from = a.Value.String()
		case "to":
			to = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, from+"→"+to)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) transitions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.recs...)
}

func wrappedCanceled() error         { return fmt.Errorf("op: %w", context.Canceled) }
func wrappedDeadlineExceeded() error { return fmt.Errorf("op: %w", context.DeadlineExceeded) }
