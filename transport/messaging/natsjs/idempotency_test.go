package natsjs_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// An id is remembered for the TTL, and at most maxKeys ids are kept, the oldest going
// first.
func TestMemoryStoreTTLAndBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := natsjs.NewMemoryStore(time.Minute, 3)
		_ = s.MarkProcessed(ctx, "a")
		time.Sleep(59 * time.Second)
		if ok, _ := s.Processed(ctx, "a"); !ok {
			t.Error("a within its TTL: got not processed, want processed")
		}
		time.Sleep(time.Second)
		if ok, _ := s.Processed(ctx, "a"); ok {
			t.Error("a after its TTL: got processed, want forgotten")
		}
		for i := range 5 {
			_ = s.MarkProcessed(ctx, fmt.Sprint(i))
		}
		if n := s.Len(); n != 3 {
			t.Errorf("Len after 5 ids with a bound of 3: got %d, want 3", n)
		}
		for id, want := range map[string]bool{"0": false, "1": false, "2": true, "3": true, "4": true} {
			if ok, _ := s.Processed(ctx, id); ok != want {
				t.Errorf("Processed(%s): got %v, want %v", id, ok, want)
			}
		}
	})
}

// A handler error leaves the id unrecorded, so the next delivery runs the handler.
func TestIdempotencyRecordsOnlySuccess(t *testing.T) {
	ctx := context.Background()
	calls := 0
	h := natsjs.Idempotency{Store: natsjs.NewMemoryStore(0, 0)}.Wrap(func(context.Context, *natsjs.Message) error {
		calls++
		if calls == 1 {
			return fmt.Errorf("down")
		}
		return nil
	})
	m := &natsjs.Message{ID: "x"}
	for range 3 {
		_ = h(ctx, m)
	}
	if calls != 2 {
		t.Errorf("handler calls: got %d, want 2 (failed, succeeded, then skipped)", calls)
	}
}
