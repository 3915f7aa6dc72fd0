package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/telemetry"
)

// ComplianceError is returned by [Service.Run] when COMPLIANCE_MODE=enforce and a
// required rule fails: Run logs each failure with its fix and [Main] exits with code 2.
type ComplianceError struct {
	Report compliance.Report
}

// Error lists the failed required rules with their fixes.
func (e *ComplianceError) Error() string {
	return "service: refusing to start with COMPLIANCE_MODE=enforce: " + e.Report.Enforce().Error()
}

// Unwrap lets errors.Is match compliance.ErrNotCompliant.
func (e *ComplianceError) Unwrap() error { return e.Report.Enforce() }

// FactsFunc adds what a capability knows to the compliance facts: a health registry
// its checks, a client factory its dependencies. See [Service.AddFacts].
type FactsFunc func(f *compliance.Facts)

// AddFacts registers f to contribute to the compliance facts every time they are
// gathered.
func (s *Service) AddFacts(f FactsFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.factFuncs = append(s.factFuncs, f)
}

// Facts gathers the compliance facts from what the service actually set up: its
// identity and links, its environment and version, the admin and public addresses, the
// metrics and tracing it wired, its server limits and lifecycle timings, the registry,
// and whatever the capabilities added with [Service.AddFacts].
func (s *Service) Facts() compliance.Facts {
	c, i := s.cfg, s.info
	f := compliance.Facts{
		Name:            i.Name,
		Owner:           i.Owner,
		Description:     i.Description,
		Tier:            i.Tier,
		Lifecycle:       i.Lifecycle,
		Labels:          i.Labels,
		Links:           i.Links,
		DependsOn:       i.DependsOn,
		Environment:     c.Env,
		Version:         i.Version,
		Revision:        s.build.Revision,
		MetricsServed:   telemetry.ServesMetrics(c.Tracing),
		TracingExporter: s.TracingExporter(),
		HTTPAddr:        c.HTTPAddr,
		GRPCAddr:        c.GRPCAddr,
		AdminAddr:       c.AdminAddr,
		PprofEnabled:    c.PprofEnabled,
		ShutdownTimeout: c.ShutdownTimeout,
		DrainDelay:      c.DrainDelay,
		Server: compliance.ServerLimits{
			ReadHeaderTimeout: c.HTTPReadHeaderTimeout,
			ReadTimeout:       c.HTTPReadTimeout,
			WriteTimeout:      c.HTTPWriteTimeout,
			IdleTimeout:       c.HTTPIdleTimeout,
			MaxHeaderBytes:    c.HTTPMaxHeaderBytes,
			MaxBodyBytes:      c.HTTPMaxBodyBytes,
		},
		Registry: c.EffectiveRegistry(),
	}
	if s.registrar != nil && f.Registry == RegistryNone {
		f.Registry = fmt.Sprintf("%T", s.registrar) // a registrar given in code
	}
	if a := s.AdminAddr(); a != nil {
		f.AdminAddr = a.String()
	}
	if a := s.HTTPAddr(); a != nil {
		f.HTTPAddr = a.String()
	}
	if f.MetricsServed {
		f.MetricsAddr = f.AdminAddr
	}
	if s.signals != nil {
		f.SignalsExported = s.signals.Exporters()
	}
	f.Kubernetes = s.kube
	s.mu.Lock()
	funcs := append([]FactsFunc(nil), s.factFuncs...)
	s.mu.Unlock()
	for _, fn := range funcs {
		fn(&f)
	}
	return f
}

// evaluateCompliance evaluates the rules on the current facts, keeps the report for
// /compliance, logs it when it changed, and in enforce mode returns a
// *[ComplianceError] when a required rule fails.
func (s *Service) evaluateCompliance(ctx context.Context) (compliance.Report, error) {
	if s.cfg.ComplianceMode == ComplianceOff {
		return compliance.Report{}, nil
	}
	rep := compliance.Evaluate(s.Facts(), s.rules)
	s.mu.Lock()
	prev, had := s.report, s.hasReport
	s.report, s.hasReport = rep, true
	s.mu.Unlock()
	if !had || !prev.Equal(rep) {
		rep.Log(ctx, s.logger)
	}
	if s.cfg.ComplianceMode == ComplianceEnforce && !rep.Compliant() {
		return rep, &ComplianceError{Report: rep}
	}
	return rep, nil
}

// ComplianceReport returns the latest compliance report, and false before the first
// evaluation (or with COMPLIANCE_MODE=off).
func (s *Service) ComplianceReport() (compliance.Report, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report, s.hasReport
}

// isComplianceError reports whether err stopped the service for compliance.
func isComplianceError(err error) bool {
	var ce *ComplianceError
	return errors.As(err, &ce)
}

// healthFacts adds the registered health checks to the facts.
func (s *Service) healthFacts(f *compliance.Facts) {
	for _, c := range s.health.Checks() {
		if c.Name == "breakers" {
			continue // Paved's own warning check, not the team's readiness check
		}
		if c.Kinds.Has(health.Readiness) {
			f.ReadinessChecks = append(f.ReadinessChecks, c.Name)
		}
		if c.Kinds.Has(health.Liveness) {
			f.LivenessChecks = append(f.LivenessChecks, compliance.Check{Name: c.Name, Dependency: c.Dependency != ""})
		}
	}
	for _, p := range s.resilience.Policies() {
		timeout := p.Config().Timeout
		if timeout == 0 {
			timeout = p.Config().AttemptTimeout
		}
		if !p.HasTimeout() {
			timeout = 0
		}
		f.Dependencies = mergeDependency(f.Dependencies, compliance.Dependency{
			Name: p.Name(), Breaker: p.HasBreaker(), Timeout: timeout,
		})
	}
}

// mergeDependency adds d to deps, or merges it into the entry of the same name.
func mergeDependency(deps []compliance.Dependency, d compliance.Dependency) []compliance.Dependency {
	for i := range deps {
		if deps[i].Name == d.Name {
			deps[i].ThroughPaved = deps[i].ThroughPaved || d.ThroughPaved
			deps[i].Breaker = deps[i].Breaker || d.Breaker
			if deps[i].Timeout == 0 {
				deps[i].Timeout = d.Timeout
			}
			return deps
		}
	}
	return append(deps, d)
}
