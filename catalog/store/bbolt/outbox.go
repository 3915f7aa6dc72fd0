package bbolt

import (
	"bytes"
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/paved-road/paved/catalog/store"
)

// bOutbox holds the outboxes: box name -> bucket: 8-byte big-endian seq -> payload. The
// bucket's sequence (NextSequence) numbers the entries, so numbers are never reused,
// even after the box is emptied. It is created by the first write.
const bOutbox = "outbox"

var _ store.Outbox = (*Store)(nil)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Enqueue implements [store.Outbox]. The entry is fsynced before it returns.
func (s *Store) Enqueue(ctx context.Context, box string, payload []byte) (uint64, error) {
	if err := store.CheckOutbox(box, payload, -1); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists([]byte(bOutbox))
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(box))
		if err != nil {
			return err
		}
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		return b.Put(seqKey(seq), payload)
	})
	if err != nil {
		return 0, s.wrap(err)
	}
	return seq, nil
}

// Pending implements [store.Outbox].
func (s *Store) Pending(ctx context.Context, box string, limit int) ([]store.OutboxEntry, error) {
	if err := store.CheckOutbox(box, nil, limit); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []store.OutboxEntry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(bOutbox))
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(box))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			out = append(out, store.OutboxEntry{Seq: binary.BigEndian.Uint64(k), Payload: bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
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
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(bOutbox))
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(box))
		if b == nil {
			return nil
		}
		return b.Delete(seqKey(seq))
	}))
}
