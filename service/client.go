package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
)

// Client returns an HTTP client for the named dependency, built the paved way: requests
// to http://<dependency>/... go to the ready instances discovery finds (DISCOVERY_STATIC,
// else the registry backend's instancer), run under a resilience policy built from
// policy (breaker, retries with a budget, timeouts), carry the trace context and the
// request id, and are measured as http_client_request_duration_seconds. The dependency
// counts in the compliance facts and in /info. The client is closed when the service
// stops. Call it from setup, before Run.
func (s *Service) Client(dependency string, policy resilience.PolicyConfig, opts ...httptransport.ClientOption) (*httptransport.Client, error) {
	p, err := s.Policy(dependency, policy)
	if err != nil {
		return nil, err
	}
	in, err := s.Instancer(context.Background(), dependency)
	if err != nil {
		return nil, err
	}
	base := []httptransport.ClientOption{
		httptransport.WithPolicy(p),
		httptransport.WithTracerProvider(s.tracer),
		httptransport.WithPropagator(s.propagator),
		httptransport.WithRegisterer(s.registry),
		httptransport.WithRecorder(s.deps.Record),
	}
	if in != nil {
		base = append(base, httptransport.WithInstancer(in))
	}
	c, err := httptransport.NewClient(dependency, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	s.addCloser(c.Close)
	return c, nil
}

// Instancer returns the instancer of the named dependency: fixed instances from
// DISCOVERY_STATIC when it names the dependency, else the registry backend's, else nil
// (requests then go where their URL says). It is stopped when the service stops.
func (s *Service) Instancer(ctx context.Context, dependency string) (discovery.Instancer, error) {
	if list, ok := s.static[dependency]; ok {
		in := static.NewInstancer(list)
		s.addCloser(func() error { in.Stop(); return nil })
		return in, nil
	}
	name := s.cfg.EffectiveRegistry()
	b, ok := s.backends[name]
	if !ok || b.Instancer == nil {
		return nil, nil
	}
	in, err := b.Instancer(ctx, s.cfg, dependency)
	if err != nil {
		return nil, fmt.Errorf("service: discovering %q through %s: %w", dependency, name, err)
	}
	s.addCloser(func() error { in.Stop(); return nil })
	return in, nil
}

func (s *Service) addCloser(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, f)
}

// closeAll closes the clients and instancers, last made first.
func (s *Service) closeAll() error {
	s.mu.Lock()
	cs := s.closers
	s.closers = nil
	s.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i]())
	}
	return errors.Join(errs...)
}

// RecordDependency records an outbound dependency whose calls go through a Paved binding
// other than [Service.Client], such as the NATS binding's publisher under the policy
// [Service.Policy] built: it shows in /info's dependencies and counts as built through
// Paved for the compliance rules (its breaker and timeout come from the policy of the
// same name, or from d). Call it from setup, before Run.
func (s *Service) RecordDependency(d httptransport.Dependency) { s.deps.Record(d) }

// dependencyFacts adds the clients built through Paved to the facts.
func (s *Service) dependencyFacts(f *compliance.Facts) {
	for _, d := range s.deps.List() {
		cd := compliance.Dependency{Name: d.Name, ThroughPaved: d.Paved, Breaker: d.Breaker}
		if p := s.resilience.Get(d.Name); p != nil && p.HasTimeout() {
			cd.Timeout = p.Config().Timeout
			if cd.Timeout <= 0 {
				cd.Timeout = p.Config().AttemptTimeout
			}
		}
		f.Dependencies = mergeDependency(f.Dependencies, cd)
	}
}
