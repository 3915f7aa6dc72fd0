package resilience

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults applied to zero fields. They are documented on each field too.
const (
	DefaultConsecutiveFailures = 5
	DefaultFailureRatio        = 0.5
	DefaultMinRequests         = 20
	DefaultInterval            = 60 * time.Second
	DefaultOpenTimeout         = 30 * time.Second
	DefaultHalfOpenMaxRequests = 1
	DefaultProbeTimeout        = 5 * time.Second

	DefaultMaxAttempts        = 3
	DefaultInitialBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff         = 2 * time.Second
	DefaultMultiplier         = 2.0
	DefaultMaxRetryAfter      = 10 * time.Second
	DefaultBudgetRatio        = 0.1
	DefaultBudgetMinPerSecond = 10.0
	DefaultBudgetWindow       = 10 * time.Second

	DefaultTimeout        = 10 * time.Second
	DefaultAttemptTimeout = 3 * time.Second
	DefaultBulkheadWait   = 100 * time.Millisecond
)

// BreakerConfig configures a circuit breaker. Every zero field takes the
// documented default, so the zero value is a working configuration. The env
// tags let a config loader read it under a prefix, e.g. with caarlos0/env
// and envPrefix "INVENTORY_BREAKER_": INVENTORY_BREAKER_OPEN_TIMEOUT=10s.
type BreakerConfig struct {
	// Disabled, read by NewPolicy, builds the policy without a breaker.
	// NewBreaker refuses a disabled config. Default false.
	Disabled bool `env:"DISABLED"`
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row in the closed state. Default 5. math.MaxUint32 effectively turns
	// this rule off.
	ConsecutiveFailures uint32 `env:"CONSECUTIVE_FAILURES"`
	// FailureRatio trips the breaker when at least MinRequests calls were
	// counted in the current interval and this share of them failed.
	// Default 0.5. Valid: 0 < ratio <= 1; a negative value turns the rule off.
	FailureRatio float64 `env:"FAILURE_RATIO"`
	// MinRequests is the number of counted calls in the interval below which
	// FailureRatio is not applied. Default 20.
	MinRequests uint32 `env:"MIN_REQUESTS"`
	// Interval is the closed-state window after which the counts are
	// cleared. Default 60s. A negative value never clears them.
	Interval time.Duration `env:"INTERVAL"`
	// BucketPeriod, when positive, makes Interval a rolling window of
	// buckets of this length instead of a fixed window. Default 0 (fixed).
	BucketPeriod time.Duration `env:"BUCKET_PERIOD"`
	// OpenTimeout is how long the breaker stays open before it lets probes
	// through (half-open). Default 30s.
	OpenTimeout time.Duration `env:"OPEN_TIMEOUT"`
	// HalfOpenMaxRequests is how many probes may run at once when half-open;
	// that many successes in a row close the breaker, one failure reopens it.
	// Default 1.
	HalfOpenMaxRequests uint32 `env:"HALF_OPEN_MAX_REQUESTS"`
	// ProbeTimeout bounds each call admitted while half-open, so a hung probe
	// cannot keep the breaker half-open. A timed-out probe is a failure.
	// Default 5s. A negative value turns it off.
	ProbeTimeout time.Duration `env:"PROBE_TIMEOUT"`
}

// RetryConfig configures the retry loop: exponential backoff with full
// jitter and a retry budget. The zero value is a working configuration.
type RetryConfig struct {
	// MaxAttempts is the maximum number of attempts, the first included.
	// Default 3. 1 turns retries off.
	MaxAttempts int `env:"MAX_ATTEMPTS"`
	// InitialBackoff caps the wait before the first retry; the cap grows by
	// Multiplier per retry up to MaxBackoff and the wait is drawn uniformly
	// between 0 and the cap (full jitter). Default 100ms.
	InitialBackoff time.Duration `env:"INITIAL_BACKOFF"`
	// MaxBackoff is the largest backoff cap. Default 2s.
	MaxBackoff time.Duration `env:"MAX_BACKOFF"`
	// Multiplier grows the backoff cap per retry. Default 2; must be >= 1.
	Multiplier float64 `env:"MULTIPLIER"`
	// MaxRetryAfter is the longest Retry-After the loop will wait for; a
	// failure asking for longer is returned without retry. Default 10s.
	MaxRetryAfter time.Duration `env:"MAX_RETRY_AFTER"`
	// BudgetRatio is the share of calls that may be retried over
	// BudgetWindow: retries stay at or under ratio × calls (or the floor).
	// Default 0.1. Valid: 0 < ratio <= 1; a negative value turns the budget
	// off (not recommended: an outage then multiplies the load).
	BudgetRatio float64 `env:"BUDGET_RATIO"`
	// BudgetMinPerSecond is the floor of the budget: this many retries per
	// second over the window are allowed even at low traffic. Default 10.
	// A negative value sets no floor.
	BudgetMinPerSecond float64 `env:"BUDGET_MIN_PER_SECOND"`
	// BudgetWindow is the sliding window of the budget. Default 10s.
	BudgetWindow time.Duration `env:"BUDGET_WINDOW"`
}

// BulkheadConfig limits concurrent calls. The zero value has no bulkhead.
type BulkheadConfig struct {
	// MaxConcurrent is the number of calls that may run at once. Default 0:
	// no bulkhead.
	MaxConcurrent int `env:"MAX_CONCURRENT"`
	// MaxQueue is the number of calls that may wait for a slot; more are
	// rejected at once. Default 0: no queue, reject when full.
	MaxQueue int `env:"MAX_QUEUE"`
	// MaxWait is how long a queued call waits for a slot before it is
	// rejected. Default 100ms (used only when MaxQueue > 0).
	MaxWait time.Duration `env:"MAX_WAIT"`
}

// RateLimitConfig is a token bucket. The zero value has no rate limit.
type RateLimitConfig struct {
	// Rate is the number of calls per second. Default 0: no limit.
	Rate float64 `env:"RATE"`
	// Burst is the bucket size. Default: Rate rounded up, at least 1.
	Burst int `env:"BURST"`
	// MaxWait is how long a call may wait for a token; a call that would
	// wait longer (or past its deadline) is rejected. Default 0: reject at
	// once when the bucket is empty.
	MaxWait time.Duration `env:"MAX_WAIT"`
}

// PolicyConfig configures a Policy: every part is optional. The zero value
// gives a breaker, retries with a budget, a 10s overall timeout and a 3s
// per-attempt timeout, with no bulkhead and no rate limit.
type PolicyConfig struct {
	// Timeout bounds the whole call, retries and backoff included, inside
	// the caller's own deadline. Default 10s. A negative value turns it off.
	Timeout time.Duration `env:"TIMEOUT"`
	// AttemptTimeout bounds each attempt. A retry starts only when this much
	// time is left before the deadline. Default 3s. A negative value turns
	// it off.
	AttemptTimeout time.Duration `env:"ATTEMPT_TIMEOUT"`
	// Breaker configures the circuit breaker.
	Breaker BreakerConfig `envPrefix:"BREAKER_"`
	// Retry configures retries.
	Retry RetryConfig `envPrefix:"RETRY_"`
	// Bulkhead configures the bulkhead.
	Bulkhead BulkheadConfig `envPrefix:"BULKHEAD_"`
	// RateLimit configures the rate limiter.
	RateLimit RateLimitConfig `envPrefix:"RATE_LIMIT_"`
}

func defDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// withDefaults returns c with every zero field set to its default.
func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.ConsecutiveFailures == 0 {
		c.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if c.FailureRatio == 0 {
		c.FailureRatio = DefaultFailureRatio
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultMinRequests
	}
	c.Interval = defDur(c.Interval, DefaultInterval)
	c.OpenTimeout = defDur(c.OpenTimeout, DefaultOpenTimeout)
	if c.HalfOpenMaxRequests == 0 {
		c.HalfOpenMaxRequests = DefaultHalfOpenMaxRequests
	}
	c.ProbeTimeout = defDur(c.ProbeTimeout, DefaultProbeTimeout)
	return c
}

// Validate reports every invalid field of c, naming it, its value and what
// would be valid. Zero fields are valid (they take defaults).
func (c BreakerConfig) Validate() error {
	var errs []error
	if math.IsNaN(c.FailureRatio) || c.FailureRatio > 1 {
		errs = append(errs, fmt.Errorf("resilience: BreakerConfig.FailureRatio = %v: want a share in (0, 1], 0 for the default %v, or negative to turn the rule off", c.FailureRatio, DefaultFailureRatio))
	}
	if c.BucketPeriod < 0 {
		errs = append(errs, fmt.Errorf("resilience: BreakerConfig.BucketPeriod = %v: want 0 (fixed window) or a positive duration", c.BucketPeriod))
	}
	if c.BucketPeriod > 0 && c.Interval < 0 {
		errs = append(errs, fmt.Errorf("resilience: BreakerConfig.BucketPeriod = %v needs a positive Interval, got %v", c.BucketPeriod, c.Interval))
	}
	if c.BucketPeriod > 0 && c.BucketPeriod > defDur(c.Interval, DefaultInterval) {
		errs = append(errs, fmt.Errorf("resilience: BreakerConfig.BucketPeriod = %v: want at most Interval (%v)", c.BucketPeriod, defDur(c.Interval, DefaultInterval)))
	}
	if c.OpenTimeout < 0 {
		errs = append(errs, fmt.Errorf("resilience: BreakerConfig.OpenTimeout = %v: want a positive duration (0 for the default %v)", c.OpenTimeout, DefaultOpenTimeout))
	}
	return errors.Join(errs...)
}

func (c RetryConfig) withDefaults() RetryConfig {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	c.InitialBackoff = defDur(c.InitialBackoff, DefaultInitialBackoff)
	c.MaxBackoff = defDur(c.MaxBackoff, DefaultMaxBackoff)
	if c.Multiplier == 0 {
		c.Multiplier = DefaultMultiplier
	}
	c.MaxRetryAfter = defDur(c.MaxRetryAfter, DefaultMaxRetryAfter)
	if c.BudgetRatio == 0 {
		c.BudgetRatio = DefaultBudgetRatio
	}
	if c.BudgetMinPerSecond == 0 {
		c.BudgetMinPerSecond = DefaultBudgetMinPerSecond
	}
	c.BudgetWindow = defDur(c.BudgetWindow, DefaultBudgetWindow)
	return c
}

// Validate reports every invalid field of c.
func (c RetryConfig) Validate() error {
	var errs []error
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.MaxAttempts = %d: want 1 or more (1 turns retries off), or 0 for the default %d", c.MaxAttempts, DefaultMaxAttempts))
	}
	if c.InitialBackoff < 0 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.InitialBackoff = %v: want a positive duration", c.InitialBackoff))
	}
	if c.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.MaxBackoff = %v: want a positive duration", c.MaxBackoff))
	}
	d := c.withDefaults()
	if c.InitialBackoff >= 0 && c.MaxBackoff >= 0 && d.MaxBackoff < d.InitialBackoff {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.MaxBackoff = %v: want at least InitialBackoff (%v)", d.MaxBackoff, d.InitialBackoff))
	}
	if math.IsNaN(c.Multiplier) || math.IsInf(c.Multiplier, 0) || (c.Multiplier != 0 && c.Multiplier < 1) {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.Multiplier = %v: want a finite number >= 1", c.Multiplier))
	}
	if c.MaxRetryAfter < 0 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.MaxRetryAfter = %v: want a positive duration", c.MaxRetryAfter))
	}
	if math.IsNaN(c.BudgetRatio) || c.BudgetRatio > 1 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.BudgetRatio = %v: want a share in (0, 1], or negative to turn the budget off", c.BudgetRatio))
	}
	if math.IsNaN(c.BudgetMinPerSecond) || math.IsInf(c.BudgetMinPerSecond, 0) {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.BudgetMinPerSecond = %v: want a finite number", c.BudgetMinPerSecond))
	}
	if c.BudgetWindow < 0 {
		errs = append(errs, fmt.Errorf("resilience: RetryConfig.BudgetWindow = %v: want a positive duration", c.BudgetWindow))
	}
	return errors.Join(errs...)
}

func (c BulkheadConfig) withDefaults() BulkheadConfig {
	if c.MaxQueue > 0 {
		c.MaxWait = defDur(c.MaxWait, DefaultBulkheadWait)
	}
	return c
}

// Validate reports every invalid field of c.
func (c BulkheadConfig) Validate() error {
	var errs []error
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("resilience: BulkheadConfig.MaxConcurrent = %d: want 0 (no bulkhead) or more", c.MaxConcurrent))
	}
	if c.MaxQueue < 0 {
		errs = append(errs, fmt.Errorf("resilience: BulkheadConfig.MaxQueue = %d: want 0 (no queue) or more", c.MaxQueue))
	}
	if c.MaxQueue > 0 && c.MaxConcurrent == 0 {
		errs = append(errs, fmt.Errorf("resilience: BulkheadConfig.MaxQueue = %d needs MaxConcurrent > 0", c.MaxQueue))
	}
	if c.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("resilience: BulkheadConfig.MaxWait = %v: want a positive duration", c.MaxWait))
	}
	return errors.Join(errs...)
}

func (c RateLimitConfig) withDefaults() RateLimitConfig {
	if c.Rate > 0 && c.Burst == 0 {
		c.Burst = int(math.Ceil(c.Rate))
		if c.Burst < 1 {
			c.Burst = 1
		}
	}
	return c
}

// Validate reports every invalid field of c.
func (c RateLimitConfig) Validate() error {
	var errs []error
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		errs = append(errs, fmt.Errorf("resilience: RateLimitConfig.Rate = %v: want calls per second > 0, or 0 for no limit", c.Rate))
	}
	if c.Burst < 0 {
		errs = append(errs, fmt.Errorf("resilience: RateLimitConfig.Burst = %d: want 1 or more, or 0 for the default", c.Burst))
	}
	if c.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("resilience: RateLimitConfig.MaxWait = %v: want 0 (reject at once) or a positive duration", c.MaxWait))
	}
	return errors.Join(errs...)
}

// Validate reports every invalid field of c and of its parts.
func (c PolicyConfig) Validate() error {
	var errs []error
	if !c.Breaker.Disabled {
		errs = append(errs, c.Breaker.Validate())
	}
	errs = append(errs, c.Retry.Validate(), c.Bulkhead.Validate(), c.RateLimit.Validate())
	return errors.Join(errs...)
}

func positiveOrZero(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}
