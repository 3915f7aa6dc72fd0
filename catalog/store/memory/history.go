package memory

import (
	"context"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// The histories live in their own map, guarded by Store.mu like the rest. Each is kept
// decoded, as its JSON encoding decodes (so that the memory store answers what the
// stores keeping the encoding do), and handed in and out as a deep copy
// (core.CloneHistory), so that no caller shares memory with the store: a team page
// reads a year of deployments of each of its components, and copying them costs a
// fraction of decoding them (BenchmarkTeam).

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
		s.histories = map[string]*catalog.History{}
	}
	key := component + "/" + env
	h, kept, err := core.UpdateDecodedHistory(s.histories[key], component, env, fn)
	if err != nil {
		return catalog.History{}, err
	}
	if kept != nil {
		s.histories[key] = kept
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
	for key, h := range s.histories {
		if component == "" || strings.HasPrefix(key, component+"/") {
			out = append(out, core.CloneHistory(h))
		}
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
