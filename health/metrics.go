package health

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the registry's Prometheus collectors; a nil *metrics records nothing.
type metrics struct {
	status   *prometheus.GaugeVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "paved_health_check_status",
			Help: "Result of the last run of a health check: 1 passed, 0 failed. One series per probe set (kind) the check belongs to.",
		}, []string{"check", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "paved_health_check_duration_seconds",
			Help:    "Duration of health check runs (an abandoned run counts its timeout).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"check"}),
	}
	var err error
	if m.status, err = register(reg, m.status); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, reusing an identical collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("health: registering metrics: %w", err)
	}
	return c, nil
}

// observe records one run of e.
func (m *metrics) observe(e *entry, pass bool, d time.Duration) {
	if m == nil {
		return
	}
	v := 0.0
	if pass {
		v = 1
	}
	for _, k := range []Kind{Liveness, Readiness, Startup} {
		if e.c.Kinds&k != 0 {
			m.status.WithLabelValues(e.c.Name, k.name()).Set(v)
		}
	}
	m.duration.WithLabelValues(e.c.Name).Observe(d.Seconds())
}
