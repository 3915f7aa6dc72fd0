package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is a bit set of the probe sets a check belongs to.
type Kind uint8

// The probe sets. Combine them with |.
const (
	// Liveness checks tell whether the process must be restarted (/livez).
	Liveness Kind = 1 << iota
	// Readiness checks tell whether the instance may receive traffic (/readyz).
	Readiness
	// Startup checks tell whether the instance has finished starting (/startupz).
	Startup

	// AllKinds is every set; /healthz serves it.
	AllKinds = Liveness | Readiness | Startup
)

// Has reports whether k includes every set of other.
func (k Kind) Has(other Kind) bool { return other != 0 && k&other == other }

// String returns the set names joined by "|", such as "liveness|readiness".
func (k Kind) String() string {
	if k == 0 {
		return "none"
	}
	var parts []string
	for _, one := range []Kind{Liveness, Readiness, Startup} {
		if k&one != 0 {
			parts = append(parts, one.name())
		}
	}
	if rest := k &^ AllKinds; rest != 0 {
		parts = append(parts, fmt.Sprintf("Kind(%#x)", uint8(rest)))
	}
	return strings.Join(parts, "|")
}

// name is the name of a single set, as used in metrics and gRPC service names.
func (k Kind) name() string {
	switch k {
	case Liveness:
		return "liveness"
	case Readiness:
		return "readiness"
	case Startup:
		return "startup"
	}
	return ""
}

// Status is the outcome of a check or a set, as the IETF health+json draft spells it.
type Status string

// The statuses.
const (
	// StatusPass means healthy.
	StatusPass Status = "pass"
	// StatusWarn means healthy with concerns: a non-critical check failed.
	StatusWarn Status = "warn"
	// StatusFail means unhealthy: a critical check failed, the instance has not started,
	// or it is shutting down.
	StatusFail Status = "fail"
)

// OK reports whether s lets a probe pass (pass or warn).
func (s Status) OK() bool { return s == StatusPass || s == StatusWarn }

// Default values of zero Check fields.
const (
	DefaultTimeout  = time.Second
	DefaultCacheTTL = time.Second
)

// DefaultProbeWait is how long a probe waits for running checks when
// Options.ProbeWait is zero: 200 ms inside the 1 s probe timeout that the kubelet
// (timeoutSeconds) and grpc-health-probe (-rpc-timeout) use by default.
const DefaultProbeWait = 800 * time.Millisecond

// Check is a named health check. Only Name and Check are required.
type Check struct {
	// Name identifies the check in URLs (/readyz/<name>), metrics and logs: 1 to 63
	// characters of a-z, A-Z, 0-9, '.', '_' and '-', starting and ending with a letter or
	// digit. It must be unique in the registry; the built-in names "started" and
	// "shutdown" and the set names "liveness", "readiness" and "startup" are reserved.
	Name string
	// Check reports the health of the component: nil means healthy. It must return
	// soon after ctx is done; one that does not is abandoned at Timeout and reported
	// failed (its goroutine still ends only when it returns). A panic is reported as a
	// failure.
	Check func(ctx context.Context) error
	// Kinds is the set of probes the check belongs to. Zero means Readiness.
	Kinds Kind
	// Timeout bounds one run. Zero means DefaultTimeout (1s). A probe does not wait
	// for a run longer than Options.ProbeWait (800ms by default): a run still going
	// then is answered as failed, so keep Timeout below ProbeWait for a check that may
	// be slow but healthy.
	Timeout time.Duration
	// Period, when positive, runs the check in the background every Period while
	// Registry.Run runs; probes read the last result (without Run, a probe runs it when
	// its result is older than Period+Timeout). Zero means on demand: a probe runs the
	// check when its cached result is older than CacheTTL.
	Period time.Duration
	// CacheTTL is how long an on-demand result is reused. Zero means DefaultCacheTTL
	// (1s). Ignored when Period is set.
	CacheTTL time.Duration
	// NonCritical makes a failure report "warn" without failing the set. The zero value
	// is critical.
	NonCritical bool
	// Dependency names the outside component the check probes (a database, another
	// service); empty for a check of the process itself. Liveness refuses a check with a
	// Dependency unless Options.AllowLivenessDependencies is set.
	Dependency string
}

// Errors returned by Register, matched with errors.Is.
var (
	// ErrInvalidCheck is returned for a check with a bad name, no func, an unknown kind
	// or a negative duration.
	ErrInvalidCheck = errors.New("health: invalid check")
	// ErrDuplicate is returned for a name already registered.
	ErrDuplicate = errors.New("health: duplicate check name")
	// ErrLivenessDependency is returned for a liveness check with a Dependency when
	// Options.AllowLivenessDependencies is not set.
	ErrLivenessDependency = errors.New("health: liveness check probes a dependency")
)

// Names of the built-in readiness and startup gates.
const (
	startedName  = "started"
	shutdownName = "shutdown"
)

// reserved reports whether name is a built-in gate or a set name.
func reserved(name string) bool {
	switch name {
	case startedName, shutdownName, "liveness", "readiness", "startup":
		return true
	}
	return false
}

// validName reports whether s is 1-63 characters of [A-Za-z0-9._-] starting and ending
// with a letter or digit.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c == '.' || c == '_' || c == '-') && i > 0 && i < len(s)-1 {
			continue
		}
		return false
	}
	return true
}

// normalize validates c and fills its defaults.
func (c Check) normalize(allowLiveDeps bool) (Check, error) {
	bad := func(format string, args ...any) (Check, error) {
		return c, fmt.Errorf("%w %q: %s", ErrInvalidCheck, c.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case !validName(c.Name):
		return bad("Name must be 1-63 characters of a-z, A-Z, 0-9, '.', '_', '-', starting and ending with a letter or digit")
	case reserved(c.Name):
		return bad("Name is reserved (started, shutdown, liveness, readiness, startup)")
	case c.Check == nil:
		return bad("Check func is nil")
	case c.Kinds&^AllKinds != 0:
		return bad("Kinds %s has unknown bits; want Liveness, Readiness and/or Startup", c.Kinds)
	case c.Timeout < 0:
		return bad("Timeout %v is negative; want 0 (default %v) or more", c.Timeout, DefaultTimeout)
	case c.Period < 0:
		return bad("Period %v is negative; want 0 (on demand) or more", c.Period)
	case c.CacheTTL < 0:
		return bad("CacheTTL %v is negative; want 0 (default %v) or more", c.CacheTTL, DefaultCacheTTL)
	}
	if c.Kinds == 0 {
		c.Kinds = Readiness
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.Kinds&Liveness != 0 && c.Dependency != "" && !allowLiveDeps {
		return c, fmt.Errorf("%w: check %q probes %q; register it for Readiness, or set Options.AllowLivenessDependencies",
			ErrLivenessDependency, c.Name, c.Dependency)
	}
	return c, nil
}

// CheckInfo describes a registered check, for tools that audit the registry (such as
// compliance: "does liveness include dependency checks?").
type CheckInfo struct {
	Name       string
	Kinds      Kind
	Dependency string
	Critical   bool
	Timeout    time.Duration
	Period     time.Duration
	CacheTTL   time.Duration
}
