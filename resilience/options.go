package resilience

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// An Option changes optional behaviour of NewBreaker and NewPolicy.
type Option func(*options)

type options struct {
	reg      prometheus.Registerer
	logger   *slog.Logger
	classify Classifier
}

// WithRegisterer registers the metrics on reg. Without it, or with nil, no
// metrics are kept.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// WithLogger logs breaker transitions (one record each) on l. Nil means
// discard, the default.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithClassifier sets what counts as a failure. Nil means DefaultClassifier,
// the default.
func WithClassifier(c Classifier) Option {
	return func(o *options) { o.classify = c }
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.classify == nil {
		o.classify = DefaultClassifier
	}
	return o
}

// registerAll registers every collector or none: on the first error it
// unregisters the ones already registered and returns the error.
func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}
