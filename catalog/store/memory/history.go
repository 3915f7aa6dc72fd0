package memory

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// The histories live in their own map, guarded by Store.mu like the rest; each is kept
// encoded, so that no caller shares memory with the store.

// UpdateHistory implements [store.Store].
func (s *Store) UpdateHistory(ctx context.Context, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, error) {
	if err := core.CheckHistoryNames(component, env); err != nil {
		return catalog.History{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return catalog.History{}, err
	}
	if _, ok := s.components[component]; !ok {
		return catalog.History{}, core.NotFound("component", component)
	}
	if s.histories == nil {
		s.histories = map[string][]byte{}
	}
	key := component + "/" + env
	h, raw, err := core.ApplyHistory(s.histories[key], component, env, fn)
	if err != nil {
		return catalog.History{}, err
	}
	if raw != nil {
		s.histories[key] = raw
		s.rev++
	}
	return h, nil
}

// Histories implements [store.Store].
func (s *Store) Histories(ctx context.Context, component string) ([]catalog.History, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if _, ok := s.components[component]; component != "" && !ok {
		return nil, core.NotFound("component", component)
	}
	out := []catalog.History{}
	for _, key := range slices.Sorted(maps.Keys(s.histories)) {
		if component != "" && !strings.HasPrefix(key, component+"/") {
			continue
		}
		h, err := core.DecodeHistory(s.histories[key])
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	core.SortHistories(out)
	return out, nil
}

// deleteHistoriesLocked drops the histories of component, with s.mu held.
func (s *Store) deleteHistoriesLocked(component string) {
	for key := range s.histories {
		if strings.HasPrefix(key, component+"/") {
			delete(s.histories, key)
		}
	}
}
