package memory

import (
	"bytes"
	"context"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// The API versions live in their own map, guarded by Store.mu: by name, then digest.
// Each definition is a copy no caller shares.

type apiEntry struct {
	v   catalog.APIVersion
	def []byte
}

// PutAPIVersion implements [store.Store].
func (s *Store) PutAPIVersion(ctx context.Context, v catalog.APIVersion, definition []byte) (bool, error) {
	if err := core.CheckAPIVersion(v, definition); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if _, ok := s.apis[v.Name][v.Digest]; ok {
		return false, nil
	}
	if s.apis == nil {
		s.apis = map[string]map[string]apiEntry{}
	}
	if s.apis[v.Name] == nil {
		s.apis[v.Name] = map[string]apiEntry{}
	}
	v.Breaking = append([]catalog.BreakingChange(nil), v.Breaking...)
	s.apis[v.Name][v.Digest] = apiEntry{v: v, def: bytes.Clone(definition)}
	s.rev++
	return true, nil
}

// APIVersions implements [store.Store].
func (s *Store) APIVersions(ctx context.Context, name string) ([]catalog.APIVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []catalog.APIVersion{}
	for n, versions := range s.apis {
		if name != "" && n != name {
			continue
		}
		for _, e := range versions {
			v := e.v
			v.Breaking = append([]catalog.BreakingChange(nil), v.Breaking...)
			out = append(out, v)
		}
	}
	if name != "" && len(out) == 0 {
		return nil, core.APINotFound(name, "")
	}
	core.SortAPIVersions(out)
	return out, nil
}

// APIDefinition implements [store.Store].
func (s *Store) APIDefinition(ctx context.Context, name, digest string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	e, ok := s.apis[name][digest]
	if !ok {
		return nil, core.APINotFound(name, digest)
	}
	return bytes.Clone(e.def), nil
}
