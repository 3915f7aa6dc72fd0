package resilience

import (
	"math"
	"testing"
	"time"
)

// TestBackoffFullJitter checks the backoff statistically: uniform between 0
// and the cap (chi-square over 10 bins), mean at half the cap, caps growing
// by the multiplier up to MaxBackoff.
func TestBackoffFullJitter(t *testing.T) {
	c := RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2}.withDefaults()
	tests := []struct {
		retry int
		cap   time.Duration
	}{
		{1, 100 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second}, // 1.6s capped
		{60, time.Second},
	}
	const n, bins = 20000, 10
	for _, tt := range tests {
		var sum float64
		var counts [bins]int
		lo, hi := tt.cap, time.Duration(0)
		for range n {
			d := backoff(&c, tt.retry)
			if d < 0 || d > tt.cap {
				t.Fatalf("retry %d: backoff got %v, want in [0, %v]", tt.retry, d, tt.cap)
			}
			lo, hi = min(lo, d), max(hi, d)
			sum += float64(d)
			counts[min(int(float64(d)/float64(tt.cap)*bins), bins-1)]++
		}
		mean := sum / n
		// Standard error of the mean: cap/sqrt(12n) ≈ 0.2% of cap; allow 2%.
		if want := float64(tt.cap) / 2; math.Abs(mean-want) > 0.02*float64(tt.cap) {
			t.Errorf("retry %d: mean got %v, want %v ± 2%%", tt.retry, time.Duration(mean), time.Duration(want))
		}
		if lo > tt.cap/100 || hi < tt.cap*99/100 {
			t.Errorf("retry %d: range got [%v, %v], want close to [0, %v]", tt.retry, lo, hi, tt.cap)
		}
		var chi2 float64
		exp := float64(n) / bins
		for _, o := range counts {
			chi2 += (float64(o) - exp) * (float64(o) - exp) / exp
		}
		// 9 degrees of freedom, p = 0.001.
		if chi2 > 27.88 {
			t.Errorf("retry %d: chi-square got %.1f, want <= 27.88 (counts %v)", tt.retry, chi2, counts)
		}
	}
}

// TestBudgetFloorAndWindow: the floor allows retries at low traffic, the
// ratio caps them at high traffic, and the window slides.
func TestBudgetFloorAndWindow(t *testing.T) {
	c := RetryConfig{BudgetRatio: 0.1, BudgetMinPerSecond: 1, BudgetWindow: 10 * time.Second}.withDefaults()
	b := newBudget(c)
	now := time.Unix(1000, 0)
	// Floor: 1/s over 10s = 10 retries with no traffic at all.
	for i := range 10 {
		if !b.tryRetry(now) {
			t.Fatalf("retry %d under the floor refused", i)
		}
	}
	if b.tryRetry(now) {
		t.Fatal("retry 11 got allowed, want refused (floor 10)")
	}
	// 200 requests: ratio 0.1 allows 20 in the window, 10 already used.
	for range 200 {
		b.onRequest(now)
	}
	allowed := 0
	for b.tryRetry(now) {
		allowed++
	}
	if allowed != 10 {
		t.Fatalf("allowed got %d, want 10", allowed)
	}
	// After the window, the old counts are gone: back to the floor.
	later := now.Add(10 * time.Second)
	allowed = 0
	for b.tryRetry(later) {
		allowed++
	}
	if allowed != 10 {
		t.Fatalf("allowed after the window got %d, want 10", allowed)
	}
}
