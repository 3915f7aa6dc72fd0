package etcd

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/catalog/store"
)

// Outboxes live under <prefix>o/<box>/<seq, 20 digits> without a lease, and each box's
// last sequence number under <prefix>os/<box>: an Enqueue increments it and writes the
// entry in one compare-and-swap transaction, so that catalog processes over one prefix
// never give two entries the same number.

var _ store.Outbox = (*Store)(nil)

func (s *Store) outboxPrefix(box string) string { return s.prefix + "o/" + box + "/" }
func (s *Store) outboxKey(box string, seq uint64) string {
	return fmt.Sprintf("%s%020d", s.outboxPrefix(box), seq)
}

// Enqueue implements [store.Outbox].
func (s *Store) Enqueue(ctx context.Context, box string, payload []byte) (uint64, error) {
	if err := store.CheckOutbox(box, payload, -1); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	sk := s.prefix + "os/" + box
	for range maxAttempts {
		resp, err := s.cli.Get(ctx, sk)
		if err != nil {
			return 0, fmt.Errorf("store/etcd: enqueue in outbox %s: %w", box, err)
		}
		var last uint64
		cmp := clientv3.Compare(clientv3.CreateRevision(sk), "=", 0)
		if len(resp.Kvs) > 0 {
			if last, err = strconv.ParseUint(string(resp.Kvs[0].Value), 10, 64); err != nil {
				return 0, fmt.Errorf("store/etcd: outbox %s: sequence %q: %w", box, resp.Kvs[0].Value, err)
			}
			cmp = clientv3.Compare(clientv3.ModRevision(sk), "=", resp.Kvs[0].ModRevision)
		}
		seq := last + 1
		txn, err := s.cli.Txn(ctx).If(cmp).
			Then(clientv3.OpPut(sk, strconv.FormatUint(seq, 10)), clientv3.OpPut(s.outboxKey(box, seq), string(payload))).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("store/etcd: enqueue in outbox %s: %w", box, err)
		}
		if txn.Succeeded {
			return seq, nil
		}
	}
	return 0, fmt.Errorf("store/etcd: enqueue in outbox %s: too much contention", box)
}

// Pending implements [store.Outbox].
func (s *Store) Pending(ctx context.Context, box string, limit int) ([]store.OutboxEntry, error) {
	if err := store.CheckOutbox(box, nil, limit); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	p := s.outboxPrefix(box)
	resp, err := s.cli.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithLimit(int64(limit)),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("store/etcd: outbox %s: %w", box, err)
	}
	out := make([]store.OutboxEntry, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		seq, err := strconv.ParseUint(string(kv.Key[len(p):]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store/etcd: outbox %s: key %q: %w", box, kv.Key, err)
		}
		out = append(out, store.OutboxEntry{Seq: seq, Payload: kv.Value})
	}
	return out, nil
}

// Ack implements [store.Outbox].
func (s *Store) Ack(ctx context.Context, box string, seq uint64) error {
	if err := store.CheckOutbox(box, nil, -1); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.outboxKey(box, seq)); err != nil {
		return fmt.Errorf("store/etcd: ack in outbox %s: %w", box, err)
	}
	return nil
}
