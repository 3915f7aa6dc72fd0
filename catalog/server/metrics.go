package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Names of the catalog's own metrics (docs/metrics.md).
const (
	MetricComponents      = "paved_catalog_components"
	MetricInstances       = "paved_catalog_instances"
	MetricRegistrations   = "paved_catalog_registrations_total"
	MetricHeartbeats      = "paved_catalog_heartbeats_total"
	MetricDeregistrations = "paved_catalog_deregistrations_total"
	MetricExpirations     = "paved_catalog_expirations_total"
	MetricWatchClients    = "paved_catalog_watch_clients"
	MetricStoreDuration   = "paved_catalog_store_duration_seconds"
	MetricRefused         = "paved_catalog_refused_total"
	MetricLimiterEntries  = "paved_catalog_limiter_entries"
)

// Store operations: the operation label of paved_catalog_store_duration_seconds.
const (
	opPutComponent      = "put_component"
	opGetComponent      = "get_component"
	opListComponents    = "list_components"
	opDeleteComponent   = "delete_component"
	opPutInstance       = "put_instance"
	opHeartbeatInstance = "heartbeat_instance"
	opGetInstance       = "get_instance"
	opDeleteInstance    = "delete_instance"
	opInstances         = "instances"
	opPutScorecard      = "put_scorecard"
	opScorecard         = "scorecard"
)

// refusal names the refusal a handler answered with status, or "" for none.
func refusal(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusPreconditionFailed:
		return "precondition_failed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	return ""
}

// collectTimeout bounds the store reads of a scrape.
const collectTimeout = 5 * time.Second

// watchPause is the least time between two reads of the expiry watcher ([Server.Run]).
const watchPause = time.Second

// metrics are the catalog's own metrics. They exist whether or not they are
// registered, so the code that updates them never checks.
type metrics struct {
	registrations   prometheus.Counter
	heartbeats      *prometheus.CounterVec
	deregistrations prometheus.Counter
	expirations     prometheus.Counter
	watchClients    prometheus.Gauge
	storeDuration   *prometheus.HistogramVec
	refused         *prometheus.CounterVec
	// Read at scrape time by stateCollector.
	components, instances, limiterEntries *prometheus.Desc
}

func newMetrics() *metrics {
	m := &metrics{
		registrations: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRegistrations,
			Help: "Instance registrations the catalog stored (PUT without If-Match), first ones and re-registrations."}),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricHeartbeats,
			Help: "Instance heartbeats (PUT with If-Match: *) by result: ok, or unknown for an instance the catalog does not hold (answered 412). Others (refused, invalid) are in paved_catalog_refused_total."}, []string{"result"}),
		deregistrations: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricDeregistrations,
			Help: "Instances deregistered (DELETE)."}),
		expirations: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricExpirations,
			Help: "Instances this catalog process saw expire (no heartbeat for their TTL)."}),
		watchClients: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricWatchClients,
			Help: "Long polls of instance lists (?index=) waiting for a change."}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricStoreDuration,
			Help:    "Time the catalog's store took per call, by operation (watches, which wait by design, excluded).",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}}, []string{"operation"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRefused,
			Help: "Requests and connections the catalog refused, by reason."}, []string{"reason"}),
		components: prometheus.NewDesc(MetricComponents, "Components in the catalog.", nil, nil),
		instances: prometheus.NewDesc(MetricInstances,
			"Instances in the catalog by effective status (an expired instance is critical until it heartbeats or is removed).", []string{"status"}, nil),
		limiterEntries: prometheus.NewDesc(MetricLimiterEntries,
			"Entries the per-client limits keep, by table: client (request rates), token, instance (heartbeat budgets), connection (clients holding connections), held (connections over a client's cap held before they are closed).", []string{"table"}, nil),
	}
	for _, r := range []string{"ok", "unknown"} {
		m.heartbeats.WithLabelValues(r)
	}
	for _, op := range []string{opPutComponent, opGetComponent, opListComponents, opDeleteComponent, opPutInstance,
		opHeartbeatInstance, opGetInstance, opDeleteInstance, opInstances, opPutScorecard, opScorecard} {
		m.storeDuration.WithLabelValues(op)
	}
	for _, st := range []int{400, 401, 403, 405, 412, 413, 415} { // the statuses refusal names
		m.refused.WithLabelValues(refusal(st))
	}
	for _, r := range []string{reasonConnectionCap, reasonClientRate, reasonTokenRate} {
		m.refused.WithLabelValues(r)
	}
	return m
}

// register registers the metrics and the collector of s's state on reg.
func (m *metrics) register(reg prometheus.Registerer, s *Server) error {
	for _, c := range []prometheus.Collector{m.registrations, m.heartbeats, m.deregistrations, m.expirations,
		m.watchClients, m.storeDuration, m.refused, stateCollector{s}, newDORACollector(s)} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) refuse(reason string) { m.refused.WithLabelValues(reason).Inc() }

// answered counts a handler's answer: a refusal by its status, and a heartbeat's
// result.
func (m *metrics) answered(status int, heartbeat bool) {
	if r := refusal(status); r != "" {
		m.refuse(r)
	}
	if heartbeat {
		switch status {
		case http.StatusOK:
			m.heartbeats.WithLabelValues("ok").Inc()
		case http.StatusPreconditionFailed:
			m.heartbeats.WithLabelValues("unknown").Inc()
		}
	}
}

// stateCollector reads the store at scrape time: one count, no bookkeeping beside the
// store's own.
type stateCollector struct{ s *Server }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.s.met.components
	ch <- c.s.met.instances
	ch <- c.s.met.limiterEntries
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	s := c.s
	if comps, err := s.raw.ListComponents(ctx, catalog.ComponentFilter{}); err != nil {
		s.log.Warn("catalog metrics: listing components", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(s.met.components, prometheus.GaugeValue, float64(len(comps)))
	}
	if set, err := s.raw.Instances(ctx, ""); err != nil {
		s.log.Warn("catalog metrics: listing instances", "err", err)
	} else {
		n := map[catalog.Status]int{catalog.StatusPassing: 0, catalog.StatusWarning: 0, catalog.StatusCritical: 0}
		for _, in := range set.Instances {
			n[in.Status]++
		}
		for st, v := range n {
			ch <- prometheus.MustNewConstMetric(s.met.instances, prometheus.GaugeValue, float64(v), string(st))
		}
	}
	for table, n := range map[string]int{"client": s.lim.clients.len(), "token": s.lim.tokens.len(),
		"instance": s.lim.beats.len(), "connection": s.lim.openClients(), "held": s.lim.heldConns()} {
		ch <- prometheus.MustNewConstMetric(s.met.limiterEntries, prometheus.GaugeValue, float64(n), table)
	}
}

// meteredStore times each call of the store, counts registrations, deregistrations and
// long polls in flight, and keeps the heartbeat table in step.
type meteredStore struct {
	store.Store
	s *Server
}

func (m meteredStore) time(op string, start time.Time) {
	m.s.met.storeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (m meteredStore) PutComponent(ctx context.Context, c catalog.Component) (bool, error) {
	defer m.time(opPutComponent, time.Now())
	return m.Store.PutComponent(ctx, c)
}

func (m meteredStore) GetComponent(ctx context.Context, name string) (catalog.Component, error) {
	defer m.time(opGetComponent, time.Now())
	return m.Store.GetComponent(ctx, name)
}

func (m meteredStore) ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error) {
	defer m.time(opListComponents, time.Now())
	return m.Store.ListComponents(ctx, f)
}

func (m meteredStore) DeleteComponent(ctx context.Context, name string) error {
	defer m.time(opDeleteComponent, time.Now())
	return m.Store.DeleteComponent(ctx, name)
}

func (m meteredStore) PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	t := time.Now()
	out, err := m.Store.PutInstance(ctx, in)
	m.time(opPutInstance, t)
	if err == nil {
		m.s.met.registrations.Inc()
		m.s.observeInstance(opPutInstance, out, nil)
	}
	return out, err
}

func (m meteredStore) HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	t := time.Now()
	out, err := m.Store.HeartbeatInstance(ctx, in)
	m.time(opHeartbeatInstance, t)
	switch {
	case err == nil:
		m.s.observeInstance(opHeartbeatInstance, out, nil)
	case errors.Is(err, store.ErrNotFound):
		m.s.observeInstance(opHeartbeatInstance, in, err)
	}
	return out, err
}

func (m meteredStore) GetInstance(ctx context.Context, component, id string) (catalog.Instance, error) {
	defer m.time(opGetInstance, time.Now())
	return m.Store.GetInstance(ctx, component, id)
}

func (m meteredStore) DeleteInstance(ctx context.Context, component, id string) error {
	t := time.Now()
	err := m.Store.DeleteInstance(ctx, component, id)
	m.time(opDeleteInstance, t)
	if err == nil {
		m.s.met.deregistrations.Inc()
		m.s.forgetBeat(component, id)
	}
	return err
}

func (m meteredStore) Instances(ctx context.Context, component string) (store.InstanceSet, error) {
	defer m.time(opInstances, time.Now())
	return m.Store.Instances(ctx, component)
}

func (m meteredStore) Watch(ctx context.Context, component string, afterIndex uint64) (store.InstanceSet, error) {
	m.s.met.watchClients.Inc()
	defer m.s.met.watchClients.Dec()
	return m.Store.Watch(ctx, component, afterIndex)
}

func (m meteredStore) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	defer m.time(opPutScorecard, time.Now())
	return m.Store.PutScorecard(ctx, sc)
}

func (m meteredStore) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	defer m.time(opScorecard, time.Now())
	return m.Store.Scorecard(ctx, component)
}

// resync bounds the time between two passes of [Server.Run] when nothing changes, so
// that a history it failed to write is tried again.
const resync = 30 * time.Second

// Run watches every instance until ctx ends (reading the set at most once a second) and
//   - records deployments and incidents in each component's history per environment
//     (see docs/catalog.md; several catalog processes over one store agree on them), and
//   - fetches the definitions of API versions registered with a digest the store does
//     not have yet, checks them for breaking changes and stores them (apis.go), and
//   - counts for paved_catalog_expirations_total each instance that turns expired after
//     its first read. Several catalog processes each count what they see: aggregate
//     them with max, not sum.
//
// It returns nil when ctx ends, and keeps going past store errors (logged), so it may
// run as a service member (service.Service.Go).
func (s *Server) Run(ctx context.Context) error {
	fetchers := make(chan struct{})
	go func() { defer close(fetchers); s.runAPIFetchers(ctx) }()
	defer func() { <-fetchers }()
	expired := map[string]bool{} // instances expired at the last read
	var index uint64
	first := true
	tracker := &fleetTracker{s: s}
	for {
		wctx, cancel := context.WithTimeout(ctx, resync)
		set, err := s.raw.Watch(wctx, "", index)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			set, err = s.raw.Instances(ctx, "")
		}
		if err != nil {
			if !errors.Is(err, store.ErrClosed) && ctx.Err() == nil {
				s.log.Warn("catalog: watching instances", "err", err)
			}
		} else {
			now := make(map[string]bool, len(expired))
			for _, in := range set.Instances {
				if !in.Expired {
					continue
				}
				key := beatKey(in.Component, in.ID)
				now[key] = true
				if !first && !expired[key] {
					s.met.expirations.Inc()
				}
			}
			expired, index, first = now, set.Index, false
			tracker.pass(ctx, set)
		}
		t := time.NewTimer(watchPause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
