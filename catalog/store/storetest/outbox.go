package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// outboxCases are the conformance cases of [store.Outbox], which every store of this
// module implements.
func outboxCases(h Harness) []testCase {
	return []testCase{
		{"OutboxOrderAckAndLimits", testOutbox},
		{"OutboxConcurrentEnqueuesGetDistinctSeqs", testOutboxConcurrent},
		{"OutboxKeepsEntriesAcrossRestart", func(t *testing.T, s store.Store) { testOutboxRestart(t, h, s) }},
	}
}

func outboxOf(t *testing.T, s store.Store) store.Outbox {
	t.Helper()
	o, ok := s.(store.Outbox)
	if !ok {
		t.Fatalf("%T does not implement store.Outbox", s)
	}
	return o
}

func payloads(es []store.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Payload)
	}
	return out
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := outboxOf(t, s)
	if got := must(o.Pending(ctx, "compass", 10))(t); got == nil || len(got) != 0 {
		t.Fatalf("never written: got %#v, want an empty slice", got)
	}
	if err := o.Ack(ctx, "compass", 7); err != nil {
		t.Fatalf("ack in a never written box: got %v, want nil", err)
	}
	var seqs []uint64
	for i := range 5 {
		seqs = append(seqs, must(o.Enqueue(ctx, "compass", fmt.Appendf(nil, "m%d", i)))(t))
	}
	must(o.Enqueue(ctx, "other", []byte("x")))(t)
	if !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != 5 {
		t.Fatalf("got seqs %v, want 5 increasing", seqs)
	}
	got := must(o.Pending(ctx, "compass", 3))(t)
	if want := []string{"m0", "m1", "m2"}; !slices.Equal(payloads(got), want) || got[0].Seq != seqs[0] {
		t.Fatalf("pending 3: got %v (first seq %d), want %v (first seq %d)", payloads(got), got[0].Seq, want, seqs[0])
	}
	got[0].Payload[0] = 'X' // the caller's copy
	// Acknowledged out of order, and twice: only the others stay.
	for _, seq := range []uint64{seqs[1], seqs[0], seqs[1]} {
		if err := o.Ack(ctx, "compass", seq); err != nil {
			t.Fatalf("ack %d: got %v, want nil", seq, err)
		}
	}
	if got, want := payloads(must(o.Pending(ctx, "compass", 10))(t)), []string{"m2", "m3", "m4"}; !slices.Equal(got, want) {
		t.Fatalf("after acks: got %v, want %v", got, want)
	}
	if got, want := payloads(must(o.Pending(ctx, "other", 10))(t)), []string{"x"}; !slices.Equal(got, want) {
		t.Fatalf("other box: got %v, want %v", got, want)
	}
	for _, seq := range seqs[2:] {
		if err := o.Ack(ctx, "compass", seq); err != nil {
			t.Fatalf("ack %d: got %v, want nil", seq, err)
		}
	}
	// An emptied box does not reuse numbers.
	if seq := must(o.Enqueue(ctx, "compass", []byte("later")))(t); seq <= seqs[4] {
		t.Fatalf("after emptying: got seq %d, want more than %d", seq, seqs[4])
	}
	var ve *catalog.ValidationError
	if _, err := o.Enqueue(ctx, "Compass Box", []byte{}); !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Fatalf("bad box and empty payload: got %v, want a validation error naming both", err)
	}
	if _, err := o.Enqueue(ctx, "compass", make([]byte, store.MaxOutboxPayload+1)); !errors.As(err, &ve) || ve.Errors[0].Field != "payload" {
		t.Fatalf("oversized payload: got %v, want a validation error naming payload", err)
	}
	if _, err := o.Pending(ctx, "compass", 0); !errors.As(err, &ve) || ve.Errors[0].Field != "limit" {
		t.Fatalf("limit 0: got %v, want a validation error naming limit", err)
	}
}

func testOutboxConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := outboxOf(t, s)
	const workers, each = 4, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs []uint64
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := o.Enqueue(ctx, "compass", fmt.Appendf(nil, "%d-%d", w, i))
				if err != nil {
					t.Errorf("enqueue: %v", err)
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(seqs)
	if len(slices.Compact(slices.Clone(seqs))) != workers*each {
		t.Fatalf("got %d distinct seqs of %d, want all distinct", len(slices.Compact(seqs)), workers*each)
	}
	if got := must(o.Pending(ctx, "compass", 100))(t); len(got) != workers*each {
		t.Fatalf("got %d pending, want %d", len(got), workers*each)
	}
}

func testOutboxRestart(t *testing.T, h Harness, s store.Store) {
	if h.Reopen == nil {
		t.Skip("the store keeps nothing across a restart")
	}
	ctx := t.Context()
	o := outboxOf(t, s)
	a := must(o.Enqueue(ctx, "compass", []byte("a")))(t)
	must(o.Enqueue(ctx, "compass", []byte("b")))(t)
	if err := o.Ack(ctx, "compass", a); err != nil {
		t.Fatalf("ack: got %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: got %v, want nil", err)
	}
	if _, err := o.Enqueue(ctx, "compass", []byte("c")); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("enqueue on a closed store: got %v, want ErrClosed", err)
	}
	s = h.Reopen(t, s)
	t.Cleanup(func() { _ = s.Close() })
	o = outboxOf(t, s)
	got := must(o.Pending(ctx, "compass", 10))(t)
	if want := []string{"b"}; !slices.Equal(payloads(got), want) {
		t.Fatalf("after the restart: got %v, want %v", payloads(got), want)
	}
	if seq := must(o.Enqueue(ctx, "compass", []byte("c")))(t); seq <= got[0].Seq {
		t.Fatalf("after the restart: got seq %d, want more than %d", seq, got[0].Seq)
	}
}
