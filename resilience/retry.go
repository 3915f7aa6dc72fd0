package resilience

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// backoff returns the wait before retry number n (1 for the first retry):
// full jitter, uniform in [0, min(MaxBackoff, InitialBackoff × Multiplier^(n-1))].
func backoff(c *RetryConfig, n int) time.Duration {
	capped := float64(c.InitialBackoff) * math.Pow(c.Multiplier, float64(n-1))
	if capped > float64(c.MaxBackoff) || math.IsInf(capped, 0) || math.IsNaN(capped) {
		capped = float64(c.MaxBackoff)
	}
	if capped <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(capped) + 1))
}

const budgetBuckets = 10

// budget limits retries to a share of calls over a sliding window of
// budgetBuckets buckets, with a floor of minPerSecond retries per second.
// It is safe for concurrent use.
type budget struct {
	ratio    float64
	floor    float64 // retries allowed per window whatever the traffic
	bucketNs int64

	mu sync.Mutex
	// buckets is a ring indexed by (time / bucket) % budgetBuckets; epoch is
	// the absolute bucket number the slot holds counts for.
	buckets [budgetBuckets]struct {
		epoch             int64
		requests, retries float64
	}
}

func newBudget(c RetryConfig) *budget {
	floor := c.BudgetMinPerSecond * c.BudgetWindow.Seconds()
	if floor < 0 {
		floor = 0
	}
	bucket := int64(c.BudgetWindow) / budgetBuckets
	if bucket <= 0 {
		bucket = 1
	}
	return &budget{ratio: c.BudgetRatio, floor: floor, bucketNs: bucket}
}

// slot returns the bucket for now, clearing it when it holds an old epoch.
// The caller holds mu.
func (b *budget) slot(now time.Time) int {
	epoch := now.UnixNano() / b.bucketNs
	i := int(epoch % budgetBuckets)
	if b.buckets[i].epoch != epoch {
		b.buckets[i].epoch = epoch
		b.buckets[i].requests = 0
		b.buckets[i].retries = 0
	}
	return i
}

// onRequest records a call (not a retry).
func (b *budget) onRequest(now time.Time) {
	b.mu.Lock()
	b.buckets[b.slot(now)].requests++
	b.mu.Unlock()
}

// tryRetry records a retry and returns true if the budget has room for it.
func (b *budget) tryRetry(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.slot(now)
	oldest := now.UnixNano()/b.bucketNs - budgetBuckets + 1
	var requests, retries float64
	for _, bk := range b.buckets {
		if bk.epoch >= oldest {
			requests += bk.requests
			retries += bk.retries
		}
	}
	if retries+1 > max(b.ratio*requests, b.floor) {
		return false
	}
	b.buckets[i].retries++
	return true
}
