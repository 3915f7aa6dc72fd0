package natsjs

import (
	"context"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/resilience"
)

// system is the value of messaging.system for NATS.
const system = "nats"

// Label names: the OpenTelemetry messaging attributes as Prometheus shows them.
const (
	lSystem    = "messaging_system"
	lDest      = "messaging_destination_name"
	lOperation = "messaging_operation_name"
	lGroup     = "messaging_consumer_group_name"
	lError     = "error_type"
)

// metrics are the messaging metrics of one Client; nil fields when no registerer.
type metrics struct {
	sent       *prometheus.CounterVec   // messaging_client_sent_messages_total
	consumed   *prometheus.CounterVec   // messaging_client_consumed_messages_total
	process    *prometheus.HistogramVec // messaging_process_duration_seconds
	operation  *prometheus.HistogramVec // messaging_client_operation_duration_seconds
	pending    *prometheus.GaugeVec     // paved_messaging_consumer_pending_messages
	deadLetter *prometheus.CounterVec   // paved_messaging_dead_lettered_messages_total

	// subjects caches, per subject published to, the send series.
	subjects sync.Map // string -> *sendSeries
}

// durationBuckets are the OpenTelemetry messaging conventions' advice, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messaging_client_sent_messages_total",
			Help: "Messages a producer attempted to send to the broker (error_type set when the send failed).",
		}, []string{lSystem, lDest, lOperation, lError}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messaging_client_consumed_messages_total",
			Help: "Messages delivered to a consumer, redeliveries included.",
		}, []string{lSystem, lDest, lGroup, lOperation}),
		process: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messaging_process_duration_seconds",
			Help:    "Time the handler took to process a message (error_type set when it failed).",
			Buckets: durationBuckets,
		}, []string{lSystem, lDest, lGroup, lOperation, lError}),
		operation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messaging_client_operation_duration_seconds",
			Help:    "Time of a messaging operation: send is a publish until the stream's acknowledgement.",
			Buckets: durationBuckets,
		}, []string{lSystem, lDest, lOperation, lError}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "paved_messaging_consumer_pending_messages",
			Help: "Messages in the stream not yet delivered to the consumer (its lag).",
		}, []string{lSystem, lDest, lGroup}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paved_messaging_dead_lettered_messages_total",
			Help: "Messages moved to the dead-letter subject after their last attempt failed (error_type of the last failure).",
		}, []string{lSystem, lDest, lGroup, lError}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.sent, m.consumed, m.process, m.operation, m.pending, m.deadLetter}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, r := range cs[:i] {
				reg.Unregister(r)
			}
			return nil, err
		}
	}
	return m, nil
}

// sendSeries are the series of publishes to one subject, looked up once.
type sendSeries struct {
	spanName  string
	sent      prometheus.Counter
	operation prometheus.Observer
}

func (m *metrics) send(subject string) *sendSeries {
	if v, ok := m.subjects.Load(subject); ok {
		return v.(*sendSeries)
	}
	s := &sendSeries{
		spanName:  "send " + subject,
		sent:      m.sent.WithLabelValues(system, subject, "send", ""),
		operation: m.operation.WithLabelValues(system, subject, "send", ""),
	}
	v, _ := m.subjects.LoadOrStore(subject, s)
	return v.(*sendSeries)
}

// consumerSeries are the series of one consumer.
type consumerSeries struct {
	consumed prometheus.Counter
	process  prometheus.Observer
	pending  prometheus.Gauge
	labels   [3]string // system, destination, group
}

func (m *metrics) consumer(dest, group string) *consumerSeries {
	return &consumerSeries{
		consumed: m.consumed.WithLabelValues(system, dest, group, "process"),
		process:  m.process.WithLabelValues(system, dest, group, "process", ""),
		pending:  m.pending.WithLabelValues(system, dest, group),
		labels:   [3]string{system, dest, group},
	}
}

// errorType is the value of error.type for err: the ErrorType() of an error that has
// one (a handler's own typed errors), a short name for the conditions this package
// knows, else "_OTHER" as the conventions say.
func errorType(err error) string {
	var t interface{ ErrorType() string }
	switch {
	case errors.As(err, &t):
		return t.ErrorType()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, resilience.ErrOpen):
		return "breaker_open"
	case errors.Is(err, resilience.ErrBudgetExhausted):
		return "retry_budget_exhausted"
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		return "no_responders"
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return "connection_closed"
	}
	return "_OTHER"
}
