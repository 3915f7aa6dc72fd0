package store

import (
	"context"
	"errors"

	"github.com/paved-road/paved/catalog"
)

// ErrNotFound is wrapped by the error returned for a component, instance or scorecard
// that does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by calls on a closed store, and by a Watch blocked when the store
// closes.
var ErrClosed = errors.New("store: closed")

// InstanceSet is the instances of a component (or of all components) at a change index.
type InstanceSet struct {
	// Index is the store's change index when the set was read; pass it to
	// [Store.Watch] to wait for the next change.
	Index uint64 `json:"index"`
	// Instances is sorted by component, then id. Status is the effective status: critical
	// for an expired instance, which also has Expired set.
	Instances []catalog.Instance `json:"instances"`
}

// Store keeps the catalog. See the package documentation for the rules every
// implementation follows.
type Store interface {
	// PutComponent creates or replaces a component, reporting whether it was created.
	PutComponent(ctx context.Context, c catalog.Component) (created bool, err error)
	// GetComponent returns a component, or an error wrapping ErrNotFound.
	GetComponent(ctx context.Context, name string) (catalog.Component, error)
	// ListComponents returns the components the filter matches, sorted by name.
	ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error)
	// DeleteComponent deletes a component with its instances and scorecards, or returns an
	// error wrapping ErrNotFound.
	DeleteComponent(ctx context.Context, name string) error

	// PutInstance registers an instance or, when it exists, heartbeats it: the store sets
	// LastHeartbeat to now and clears Expired. Its component must exist (else an error
	// wrapping ErrNotFound). It returns the instance as stored.
	PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error)
	// HeartbeatInstance is PutInstance for an instance that must already exist: when it
	// does not (never registered, deregistered, removed after expiry, or its component is
	// gone) it returns an error wrapping ErrNotFound and stores nothing. The check and the
	// write are one atomic step, so a heartbeat racing a deregistration never re-creates
	// the instance. An expired instance still listed as critical exists: its heartbeat
	// revives it.
	HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error)
	// GetInstance returns one instance (its effective status, as in Instances), or an
	// error wrapping ErrNotFound. It reads that instance alone, whatever the size of its
	// component.
	GetInstance(ctx context.Context, component, id string) (catalog.Instance, error)
	// DeleteInstance deregisters an instance and drops its scorecard, or returns an error
	// wrapping ErrNotFound.
	DeleteInstance(ctx context.Context, component, id string) error
	// Instances returns the instances of a component (an error wrapping ErrNotFound when
	// it does not exist), or of every component when component is "".
	Instances(ctx context.Context, component string) (InstanceSet, error)
	// Watch returns the instances of a component (or of all, for "") as soon as the set
	// has changed after index afterIndex: at once when it already has (afterIndex 0
	// always has) or when afterIndex is ahead of the store (an index from another or a
	// reset store), else when it changes, ctx ends (ctx.Err()), the component is deleted
	// (an error wrapping ErrNotFound) or the store closes (ErrClosed).
	Watch(ctx context.Context, component string, afterIndex uint64) (InstanceSet, error)

	// PutScorecard stores the latest scorecard of an instance, setting ReportedAt to now.
	// The instance must exist (else an error wrapping ErrNotFound); its scorecard goes
	// when it goes.
	PutScorecard(ctx context.Context, s catalog.Scorecard) error
	// Scorecard returns the scorecards of a component's instances and its score, or an
	// error wrapping ErrNotFound when the component does not exist.
	Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error)

	// UpdateHistory runs fn on the history of component in environment env (an empty
	// one, with its names set, when there is none) and, when fn returns write true,
	// stores what fn left in it, in one atomic step: under contention fn runs again on
	// the history as it now is, so it must be a function of its argument alone. The
	// component must exist (else an error wrapping ErrNotFound); component and env
	// must be DNS labels, which fn may not change (a [*catalog.ValidationError]). It
	// returns the history as stored. Histories outlive the instances, and go with their
	// component.
	UpdateHistory(ctx context.Context, component, env string, fn func(h *catalog.History) (write bool, err error)) (catalog.History, error)
	// Histories returns the histories of a component (an error wrapping ErrNotFound when
	// it does not exist), or of every component when component is "", sorted by
	// component, then environment.
	Histories(ctx context.Context, component string) ([]catalog.History, error)

	// APIStore keeps the versions of published APIs (apis.go).
	APIStore

	// Close releases the store. Blocked watches return ErrClosed.
	Close() error
}
