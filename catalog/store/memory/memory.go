package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// Options are a Store's settings. The zero value is ready to use.
type Options struct {
	// Grace is how long an expired instance stays listed as critical before it is
	// removed. Zero means the instance's TTL.
	Grace time.Duration
	// SweepInterval is how often expiry is checked. Zero means one second.
	SweepInterval time.Duration
}

// Store is an in-memory [store.Store].
type Store struct {
	grace time.Duration
	hub   core.Hub
	stop  chan struct{}
	done  chan struct{}

	mu sync.Mutex
	// guarded by mu:
	closed     bool
	rev        uint64                                  // the change index
	instRev    uint64                                  // index of the last change of any instance set
	components map[string]catalog.Component            // by name
	instances  map[string]map[string]*core.Record      // by component, then id
	setIndex   map[string]uint64                       // by component: index of its last set change
	scorecards map[string]map[string]catalog.Scorecard // by component, then instance id
	histories  map[string]*catalog.History             // by "component/env", decoded (history.go)
	outboxes   map[string]*outbox                      // by box name (outbox.go)
	apis       map[string]map[string]apiEntry          // by API name, then digest (apis.go)
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store and starts its expiry sweep; Close stops it.
func New(opts Options) *Store {
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Second
	}
	s := &Store{
		grace:      opts.Grace,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		components: make(map[string]catalog.Component),
		instances:  make(map[string]map[string]*core.Record),
		setIndex:   make(map[string]uint64),
		scorecards: make(map[string]map[string]catalog.Scorecard),
	}
	go s.sweepLoop(opts.SweepInterval)
	return s
}

func (s *Store) sweepLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep(core.Now())
		}
	}
}

// sweep expires and removes the instances due at now.
func (s *Store) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for comp, byID := range s.instances {
		for id, r := range byID {
			// A memory store starts empty: no instance predates it, so no restart floor.
			expire, remove := core.Due(r, now, time.Time{}, s.grace)
			switch {
			case remove:
				delete(byID, id)
				delete(s.scorecards[comp], id)
			case expire:
				r.Expired = true
			default:
				continue
			}
			s.touchLocked(comp)
			changed = true
		}
	}
	if changed {
		s.hub.Notify()
	}
}

// touchLocked records a change of comp's instance set.
func (s *Store) touchLocked(comp string) {
	s.rev++
	s.setIndex[comp] = s.rev
	s.instRev = s.rev
}

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed {
		return store.ErrClosed
	}
	return nil
}

func cloneComponent(c catalog.Component) catalog.Component { return c.Clone() }

// PutComponent implements [store.Store].
func (s *Store) PutComponent(ctx context.Context, c catalog.Component) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return false, err
	}
	_, exists := s.components[c.Name]
	s.components[c.Name] = cloneComponent(c)
	s.rev++
	return !exists, nil
}

// GetComponent implements [store.Store].
func (s *Store) GetComponent(ctx context.Context, name string) (catalog.Component, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return catalog.Component{}, err
	}
	c, ok := s.components[name]
	if !ok {
		return catalog.Component{}, core.NotFound("component", name)
	}
	return cloneComponent(c), nil
}

// ListComponents implements [store.Store].
func (s *Store) ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []catalog.Component{}
	for _, c := range s.components {
		if f.Match(&c) {
			out = append(out, cloneComponent(c))
		}
	}
	slices.SortFunc(out, func(a, b catalog.Component) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteComponent implements [store.Store].
func (s *Store) DeleteComponent(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, ok := s.components[name]; !ok {
		return core.NotFound("component", name)
	}
	delete(s.components, name)
	delete(s.instances, name)
	delete(s.scorecards, name)
	s.deleteHistoriesLocked(name)
	s.touchLocked(name)
	delete(s.setIndex, name)
	s.hub.Notify()
	return nil
}

// PutInstance implements [store.Store].
func (s *Store) PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, false)
}

// HeartbeatInstance implements [store.Store].
func (s *Store) HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, true)
}

// GetInstance implements [store.Store].
func (s *Store) GetInstance(ctx context.Context, component, id string) (catalog.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	r, ok := s.instances[component][id]
	if !ok {
		return catalog.Instance{}, core.NotFound("instance", component+"/"+id)
	}
	return r.ViewAt(core.Now()), nil
}

// putInstance registers or heartbeats in; mustExist makes it a heartbeat only.
func (s *Store) putInstance(ctx context.Context, in catalog.Instance, mustExist bool) (catalog.Instance, error) {
	if err := in.Validate(); err != nil {
		return catalog.Instance{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	if _, ok := s.components[in.Component]; !ok {
		return catalog.Instance{}, core.NotFound("component", in.Component)
	}
	old := s.instances[in.Component][in.ID]
	if mustExist && old == nil {
		return catalog.Instance{}, core.NotFound("instance", in.Component+"/"+in.ID)
	}
	byID := s.instances[in.Component]
	if byID == nil {
		byID = make(map[string]*core.Record)
		s.instances[in.Component] = byID
	}
	in.Expired = false
	in.LastHeartbeat = core.Now()
	in.Metadata = maps.Clone(in.Metadata)
	r := &core.Record{Instance: in}
	byID[in.ID] = r
	if core.SetChanged(old, in) {
		s.touchLocked(in.Component)
		s.hub.Notify()
	}
	return r.View(), nil
}

// DeleteInstance implements [store.Store].
func (s *Store) DeleteInstance(ctx context.Context, component, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, ok := s.instances[component][id]; !ok {
		return core.NotFound("instance", component+"/"+id)
	}
	delete(s.instances[component], id)
	delete(s.scorecards[component], id)
	s.touchLocked(component)
	s.hub.Notify()
	return nil
}

// listLocked returns the instance set of component ("" for all).
func (s *Store) listLocked(component string) (store.InstanceSet, error) {
	set := store.InstanceSet{Index: s.rev, Instances: []catalog.Instance{}}
	now := core.Now()
	var comps []string
	if component == "" {
		comps = slices.Sorted(maps.Keys(s.instances))
	} else {
		if _, ok := s.components[component]; !ok {
			return store.InstanceSet{}, core.NotFound("component", component)
		}
		comps = []string{component}
	}
	for _, c := range comps {
		byID := s.instances[c]
		for _, id := range slices.Sorted(maps.Keys(byID)) {
			set.Instances = append(set.Instances, byID[id].ViewAt(now))
		}
	}
	return set, nil
}

// Instances implements [store.Store].
func (s *Store) Instances(ctx context.Context, component string) (store.InstanceSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return store.InstanceSet{}, err
	}
	return s.listLocked(component)
}

// Watch implements [store.Store].
func (s *Store) Watch(ctx context.Context, component string, afterIndex uint64) (store.InstanceSet, error) {
	for {
		changed := s.hub.Changed()
		s.mu.Lock()
		if err := s.check(ctx); err != nil {
			s.mu.Unlock()
			return store.InstanceSet{}, err
		}
		idx := s.instRev
		if component != "" {
			idx = s.setIndex[component]
		}
		if afterIndex == 0 || idx > afterIndex || afterIndex > s.rev {
			set, err := s.listLocked(component)
			s.mu.Unlock()
			return set, err
		}
		if _, ok := s.components[component]; component != "" && !ok {
			s.mu.Unlock()
			return store.InstanceSet{}, core.NotFound("component", component)
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return store.InstanceSet{}, ctx.Err()
		case <-s.stop:
			return store.InstanceSet{}, store.ErrClosed
		}
	}
}

// PutScorecard implements [store.Store].
func (s *Store) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, ok := s.instances[sc.Component][sc.Instance]; !ok {
		return core.NotFound("instance", sc.Component+"/"+sc.Instance)
	}
	byID := s.scorecards[sc.Component]
	if byID == nil {
		byID = make(map[string]catalog.Scorecard)
		s.scorecards[sc.Component] = byID
	}
	sc.ReportedAt = core.Now()
	sc.Passed = slices.Clone(sc.Passed)
	sc.Failed = slices.Clone(sc.Failed)
	byID[sc.Instance] = sc
	s.rev++
	return nil
}

// Scorecard implements [store.Store].
func (s *Store) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return catalog.ComponentScorecard{}, err
	}
	if _, ok := s.components[component]; !ok {
		return catalog.ComponentScorecard{}, core.NotFound("component", component)
	}
	out := catalog.ComponentScorecard{Component: component, Instances: []catalog.Scorecard{}}
	byID := s.scorecards[component]
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		sc := byID[id]
		sc.Passed = slices.Clone(sc.Passed)
		sc.Failed = slices.Clone(sc.Failed)
		out.Instances = append(out.Instances, sc)
	}
	out.Score = catalog.ComponentScore(out.Instances)
	return out, nil
}

// Close stops the sweep; later calls return store.ErrClosed. It is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	return nil
}
