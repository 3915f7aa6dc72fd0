package bbolt

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// bHistories holds the histories: "component/env" -> History JSON. It is created by the
// first write; reads find it missing in an older file.
const bHistories = "histories"

// UpdateHistory implements [store.Store].
func (s *Store) UpdateHistory(ctx context.Context, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, error) {
	if err := core.CheckHistoryNames(component, env); err != nil {
		return catalog.History{}, err
	}
	if err := s.check(ctx); err != nil {
		return catalog.History{}, err
	}
	var h catalog.History
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bComponents)).Get([]byte(component)) == nil {
			return core.NotFound("component", component)
		}
		b, err := tx.CreateBucketIfNotExists([]byte(bHistories))
		if err != nil {
			return err
		}
		key := []byte(component + "/" + env)
		var raw []byte
		if v := b.Get(key); v != nil {
			raw = bytes.Clone(v)
		}
		var out []byte
		if h, out, err = core.ApplyHistory(raw, component, env, fn); err != nil || out == nil {
			return err
		}
		if _, err := bump(tx); err != nil {
			return err
		}
		return b.Put(key, out)
	})
	if err != nil {
		return catalog.History{}, s.wrap(err)
	}
	return h, nil
}

// Histories implements [store.Store].
func (s *Store) Histories(ctx context.Context, component string) ([]catalog.History, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []catalog.History{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if component != "" && tx.Bucket([]byte(bComponents)).Get([]byte(component)) == nil {
			return core.NotFound("component", component)
		}
		b := tx.Bucket([]byte(bHistories))
		if b == nil {
			return nil
		}
		prefix := []byte(component + "/")
		if component == "" {
			prefix = nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			h, err := core.DecodeHistory(v)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	core.SortHistories(out)
	return out, nil
}

// deleteHistories drops the histories of component in tx.
func deleteHistories(tx *bolt.Tx, component string) error {
	b := tx.Bucket([]byte(bHistories))
	if b == nil {
		return nil
	}
	prefix := []byte(component + "/")
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
