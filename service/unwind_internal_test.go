package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestStackUnwind: the stages stop last first, every one even when one fails, with
// their errors joined; the shared SHUTDOWN_TIMEOUT context starts only when the first
// stage that uses it runs, so a drain delay before it does not eat it.
func TestStackUnwind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var order []string
		var left time.Duration
		var st stack
		st.push("first", func(ctx context.Context) error {
			order = append(order, "first")
			if ctx.Err() == nil {
				t.Error("first: the shared context has not ended after 2s of a 1s timeout")
			}
			return nil
		})
		st.push("servers", func(ctx context.Context) error {
			order = append(order, "servers")
			d, _ := ctx.Deadline()
			left = time.Until(d)
			time.Sleep(2 * time.Second)
			return errors.New("servers failed")
		})
		st.pushOwn("drain", func(ctx context.Context) error {
			order = append(order, "drain")
			if _, ok := ctx.Deadline(); ok {
				t.Error("drain: got a deadline, want its own bound")
			}
			time.Sleep(5 * time.Second)
			return errors.New("drain failed")
		})
		err := st.unwind(context.Background(), time.Second, slog.New(slog.DiscardHandler))
		if got, want := strings.Join(order, ","), "drain,servers,first"; got != want {
			t.Errorf("order: got %s, want %s", got, want)
		}
		if left != time.Second {
			t.Errorf("SHUTDOWN_TIMEOUT left to the first shared stage: got %s, want 1s", left)
		}
		if err == nil || !strings.Contains(err.Error(), "drain failed") || !strings.Contains(err.Error(), "servers failed") {
			t.Errorf("unwind: got %v, want both errors", err)
		}
		if len(st.stages) != 0 {
			t.Errorf("stages left after unwind: %d", len(st.stages))
		}
	})
}
