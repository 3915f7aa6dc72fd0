package natsjs

import (
	"testing"
	"time"
)

// A busy consumer asks for more messages per pull request, up to maxBatch; a slow one
// fewer, down to one per worker, so that no received message waits near AckWait.
func TestNextBatchSize(t *testing.T) {
	const ackWait = 30 * time.Second
	tests := []struct {
		name             string
		size, got, floor int
		took             time.Duration
		want             int
	}{
		{"full and quick: doubles", 64, 64, 16, 20 * time.Millisecond, 128},
		{"full and quick at the cap: stays", maxBatch, maxBatch, 16, time.Millisecond, maxBatch},
		{"near the cap: stops at it", 200, 200, 16, time.Millisecond, maxBatch},
		{"not full (the pull expired): stays", 64, 10, 16, 500 * time.Millisecond, 64},
		{"full, taken in a fifth of AckWait: stays", 64, 64, 16, 6 * time.Second, 64},
		{"over a quarter of AckWait: halves", 64, 64, 16, 8 * time.Second, 32},
		{"halves down to the floor", 20, 20, 16, 10 * time.Second, 16},
		{"more workers than maxBatch: never below them", 1000, 1000, 1000, 10 * time.Second, 1000},
		{"more workers than maxBatch: never above either", 1000, 1000, 1000, time.Millisecond, 1000},
	}
	for _, tt := range tests {
		if got := nextBatchSize(tt.size, tt.got, tt.floor, tt.took, ackWait); got != tt.want {
			t.Errorf("%s: nextBatchSize(%d, %d, %d, %v) = %d, want %d", tt.name, tt.size, tt.got, tt.floor, tt.took, got, tt.want)
		}
	}
}
