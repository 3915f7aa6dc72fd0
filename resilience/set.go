package resilience

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Set holds a service's policies, one per dependency, so the service can
// list them for /info, report open breakers to readiness, and check that
// every dependency has a breaker and a timeout. Create one per service and
// pass it around; it is not global. A Set is safe for concurrent use and its
// zero value is an empty set ready to use.
type Set struct {
	mu       sync.Mutex
	policies map[string]*Policy // guarded by mu
}

// NewPolicy builds a policy with NewPolicy and adds it to s.
func (s *Set) NewPolicy(name string, cfg PolicyConfig, opts ...Option) (*Policy, error) {
	s.mu.Lock()
	_, dup := s.policies[name]
	s.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("resilience: policy %q already in the set; want one policy per name", name)
	}
	p, err := NewPolicy(name, cfg, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.Add(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Add adds p to s. It returns an error when s already has a policy with
// p's name, or p is nil.
func (s *Set) Add(p *Policy) error {
	if p == nil {
		return errors.New("resilience: Set.Add: nil policy")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.policies[p.name]; dup {
		return fmt.Errorf("resilience: policy %q already in the set; want one policy per name", p.name)
	}
	if s.policies == nil {
		s.policies = make(map[string]*Policy)
	}
	s.policies[p.name] = p
	return nil
}

// Get returns the policy named name, or nil.
func (s *Set) Get(name string) *Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policies[name]
}

// Policies returns the policies sorted by name.
func (s *Set) Policies() []*Policy {
	s.mu.Lock()
	ps := make([]*Policy, 0, len(s.policies))
	for _, p := range s.policies {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b *Policy) int { return strings.Compare(a.name, b.name) })
	return ps
}

// Status describes one policy, for /info and the compliance report.
type Status struct {
	// Name is the policy's (and the dependency's) name.
	Name string `json:"name"`
	// Breaker is true when the policy has a circuit breaker.
	Breaker bool `json:"breaker"`
	// State is the breaker's state ("closed", "half-open", "open"), empty
	// without a breaker.
	State string `json:"state,omitempty"`
	// Timeout and AttemptTimeout are the policy's timeouts, 0 when off.
	Timeout        time.Duration `json:"timeout"`
	AttemptTimeout time.Duration `json:"attempt_timeout"`
	// MaxAttempts is the retry loop's attempt limit; 1 means no retries.
	MaxAttempts int `json:"max_attempts"`
	// Bulkhead is the bulkhead's concurrency limit, 0 when off.
	Bulkhead int `json:"bulkhead,omitempty"`
	// RateLimit is the rate limit in calls per second, 0 when off.
	RateLimit float64 `json:"rate_limit,omitempty"`
}

// Status returns the status of every policy, sorted by name.
func (s *Set) Status() []Status {
	ps := s.Policies()
	out := make([]Status, 0, len(ps))
	for _, p := range ps {
		st := Status{
			Name:           p.name,
			Breaker:        p.breaker != nil,
			Timeout:        p.timeout,
			AttemptTimeout: p.attemptTimeout,
			MaxAttempts:    p.maxAttempts,
			Bulkhead:       p.cfg.Bulkhead.MaxConcurrent,
			RateLimit:      p.cfg.RateLimit.Rate,
		}
		if p.breaker != nil {
			st.State = p.breaker.State().String()
		}
		out = append(out, st)
	}
	return out
}

// Check returns an error naming every breaker that is not closed, nil when
// all are closed. It has the signature of a health check; register it as a
// non-critical readiness check so an open breaker shows as a warning
// without taking the service out of load balancing.
func (s *Set) Check(context.Context) error {
	var notClosed []string
	for _, p := range s.Policies() {
		if p.breaker == nil {
			continue
		}
		if st := p.breaker.State(); st != StateClosed {
			notClosed = append(notClosed, fmt.Sprintf("%s is %s", p.name, st))
		}
	}
	if len(notClosed) == 0 {
		return nil
	}
	return fmt.Errorf("resilience: circuit breakers not closed: %s", strings.Join(notClosed, ", "))
}

// Missing returns the names of the given dependencies that have no policy
// in s, no breaker, or no timeout, each with the reason, sorted; nil when
// all are covered. The compliance report calls it with the service's
// declared dependencies.
func (s *Set) Missing(dependencies ...string) []string {
	var out []string
	for _, d := range dependencies {
		p := s.Get(d)
		switch {
		case p == nil:
			out = append(out, d+": no policy")
		case !p.HasBreaker() && !p.HasTimeout():
			out = append(out, d+": no breaker, no timeout")
		case !p.HasBreaker():
			out = append(out, d+": no breaker")
		case !p.HasTimeout():
			out = append(out, d+": no timeout")
		}
	}
	slices.Sort(out)
	return out
}
