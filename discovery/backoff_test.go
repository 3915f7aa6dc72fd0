package discovery_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/discovery"
)

func TestBackoffDoublesWithinJitterAndResets(t *testing.T) {
	b := discovery.NewBackoff()
	want := discovery.MinBackoff
	for i := range 10 {
		got := b.Next()
		lo, hi := time.Duration(float64(want)*0.8), time.Duration(float64(want)*1.2)
		if got < lo || got > hi {
			t.Errorf("wait %d: got %v, want within [%v, %v]", i, got, lo, hi)
		}
		want = min(2*want, discovery.MaxBackoff)
	}
	b.Reset()
	if got := b.Next(); got > time.Duration(float64(discovery.MinBackoff)*1.2) {
		t.Errorf("after Reset: got %v, want about %v", got, discovery.MinBackoff)
	}
}

func TestBackoffWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := discovery.NewBackoff()
		start := time.Now()
		if !b.Wait(t.Context()) {
			t.Fatal("Wait: got false with a live context, want true")
		}
		if d := time.Since(start); d < 80*time.Millisecond || d > 120*time.Millisecond {
			t.Errorf("first wait: got %v, want 100ms ±20%%", d)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if b.Wait(ctx) {
			t.Error("Wait: got true with an ended context, want false")
		}
	})
}
