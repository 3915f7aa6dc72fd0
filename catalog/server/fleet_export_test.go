package server

import (
	"context"

	"github.com/paved-road/paved/catalog/store"
)

// Tracker is one catalog process's deployment tracker, for the tests: Run passes every
// instance set it watches to one.
type Tracker struct{ t fleetTracker }

// NewTracker returns a tracker feeding the histories of s's store.
func NewTracker(s *Server) *Tracker { return &Tracker{t: fleetTracker{s: s}} }

// Pass applies set, as Run does after each change.
func (t *Tracker) Pass(ctx context.Context, set store.InstanceSet) { t.t.pass(ctx, set) }
