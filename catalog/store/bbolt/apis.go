package bbolt

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// bAPIs holds the API versions: name -> bucket: digest -> APIVersion JSON; bAPIDefs
// their definitions: name -> bucket: digest -> the definition's bytes. Both are created
// by the first write; reads find them missing in an older file.
const (
	bAPIs    = "apis"
	bAPIDefs = "apidefs"
)

// PutAPIVersion implements [store.Store].
func (s *Store) PutAPIVersion(ctx context.Context, v catalog.APIVersion, definition []byte) (bool, error) {
	if err := core.CheckAPIVersion(v, definition); err != nil {
		return false, err
	}
	if err := s.check(ctx); err != nil {
		return false, err
	}
	raw, err := core.EncodeAPIVersion(v)
	if err != nil {
		return false, err
	}
	created := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		name, digest := []byte(v.Name), []byte(v.Digest)
		if b := tx.Bucket([]byte(bAPIs)); b != nil && b.Bucket(name) != nil && b.Bucket(name).Get(digest) != nil {
			return nil
		}
		for _, put := range [][2][]byte{{[]byte(bAPIs), raw}, {[]byte(bAPIDefs), definition}} {
			top, err := tx.CreateBucketIfNotExists(put[0])
			if err != nil {
				return err
			}
			b, err := top.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			if err := b.Put(digest, put[1]); err != nil {
				return err
			}
		}
		if _, err := bump(tx); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, s.wrap(err)
	}
	return created, nil
}

// APIVersions implements [store.Store].
func (s *Store) APIVersions(ctx context.Context, name string) ([]catalog.APIVersion, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []catalog.APIVersion{}
	err := s.db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte(bAPIs))
		if top == nil {
			return nil
		}
		read := func(b *bolt.Bucket) error {
			return b.ForEach(func(_, raw []byte) error {
				v, err := core.DecodeAPIVersion(raw)
				if err == nil {
					out = append(out, v)
				}
				return err
			})
		}
		if name != "" {
			if b := top.Bucket([]byte(name)); b != nil {
				return read(b)
			}
			return nil
		}
		return top.ForEachBucket(func(k []byte) error { return read(top.Bucket(k)) })
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	if name != "" && len(out) == 0 {
		return nil, core.APINotFound(name, "")
	}
	core.SortAPIVersions(out)
	return out, nil
}

// APIDefinition implements [store.Store].
func (s *Store) APIDefinition(ctx context.Context, name, digest string) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var def []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if top := tx.Bucket([]byte(bAPIDefs)); top != nil {
			if b := top.Bucket([]byte(name)); b != nil {
				if v := b.Get([]byte(digest)); v != nil {
					def = bytes.Clone(v)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	if def == nil {
		return nil, core.APINotFound(name, digest)
	}
	return def, nil
}
