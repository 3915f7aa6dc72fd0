package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/telemetry"
)

// Names of the health checks a Client registers.
const (
	// CheckConnection is the readiness check of the broker connection (critical).
	CheckConnection = "nats"
	// CheckLag is the readiness check of the consumers' lag (non-critical: it warns).
	CheckLag = "nats-lag"
)

// lagCacheTTL is how long the lag check's result is reused: one consumer info request
// per consumer at most this often, however often the probes come.
const lagCacheTTL = 10 * time.Second

// ErrNotStarted is returned by Publish before Start or after Stop.
var ErrNotStarted = errors.New("natsjs: client not started")

// Client is a service's connection to NATS JetStream: it publishes with trace context,
// a message id and a resilience policy, runs the service's consumers, reports the
// connection and the consumers' lag as readiness checks, and stops in the order a
// graceful shutdown needs. Build it with [New], add consumers with [Client.Consume],
// then run [Client.Start] and [Client.Stop] as the service's start and stop hook.
//
// A Client is safe for concurrent use. The zero value is not usable.
type Client struct {
	cfg    Config
	name   string
	log    *slog.Logger
	tracer trace.Tracer
	// rootNeverSampled: the provider never samples a span without a sampled parent
	// (telemetry.DeclareRootNeverSampled), so unsampled messages get no span at all.
	rootNeverSampled bool
	prop             propagation.TextMapPropagator
	m                *metrics
	policy           *resilience.Policy
	health           *health.Registry
	natsOpts         []nats.Option

	// mu guards the fields below.
	mu        sync.Mutex
	nc        *nats.Conn
	js        jetstream.JetStream
	consumers []*Consumer
	// events are the events declared with Publishes; svc is the service of Register.
	events  []Event
	svc     *service.Service
	started bool
	// stopCalled: Stop has begun; closing: the consumers have stopped and the
	// connection drains, so Publish is refused.
	stopCalled bool
	closing    bool
	// stopWatch ends the watch of the readiness shutdown gate.
	stopWatch context.CancelFunc
	watchDone chan struct{}
	closed    chan struct{} // closed by the connection's closed handler
}

// Option configures [New].
type Option func(*options)

type options struct {
	name   string
	log    *slog.Logger
	reg    prometheus.Registerer
	tp     trace.TracerProvider
	prop   propagation.TextMapPropagator
	policy *resilience.Policy
	health *health.Registry
	nats   []nats.Option
}

// WithName sets the connection's name as the broker shows it (the service's name).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithLogger logs connection events, dead letters and stop steps on l; nil discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the messaging metrics (docs/metrics.md) on reg, and the
// publish policy's when the client builds it.
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithTracerProvider makes producer and consumer spans with tp. Without it, no spans
// are recorded (trace context still passes through the messages).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(o *options) { o.tp = tp } }

// WithPropagator writes and reads trace context in message headers with p. Default:
// W3C tracecontext and baggage.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(o *options) { o.prop = p }
}

// WithPolicy applies p around every publish instead of a policy built from
// Config.Publish; pass the one service.Service.Policy("nats", cfg.NATS.Publish) returns
// so its breaker shows in /info and warns on /readyz like every other dependency's.
func WithPolicy(p *resilience.Policy) Option { return func(o *options) { o.policy = p } }

// WithHealth registers the client's readiness checks on r (the connection, critical;
// the consumers' lag, a warning) and makes the consumers stop fetching the moment r's
// readiness shutdown gate fails (health.Registry.Shutdown, the first step of a
// service's stop).
func WithHealth(r *health.Registry) Option { return func(o *options) { o.health = r } }

// WithNATSOptions adds options to nats.Connect, after the client's own.
func WithNATSOptions(opts ...nats.Option) Option {
	return func(o *options) { o.nats = append(o.nats, opts...) }
}

// New validates cfg and builds a client; it connects at [Client.Start].
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	cfg.Consumer = cfg.Consumer.withDefaults()
	c := &Client{
		cfg: cfg, name: o.name, log: telemetry.OrDiscard(o.log), prop: o.prop,
		health: o.health, natsOpts: o.nats, closed: make(chan struct{}),
	}
	tp := telemetry.OrNoopTracer(o.tp)
	c.tracer = tp.Tracer("github.com/paved-road/paved/transport/messaging/natsjs")
	c.rootNeverSampled = telemetry.RootNeverSampled(tp)
	c.prop = telemetry.OrDefaultPropagator(c.prop)
	m, err := newMetrics(o.reg)
	if err != nil {
		return nil, fmt.Errorf("natsjs: register metrics: %w", err)
	}
	c.m = m
	c.policy = o.policy
	if c.policy == nil {
		p, err := resilience.NewPolicy("nats-publish", cfg.Publish,
			resilience.WithRegisterer(o.reg), resilience.WithLogger(o.log))
		if err != nil {
			return nil, err
		}
		c.policy = p
	}
	if c.health != nil {
		err := errors.Join(
			c.health.Register(health.Check{Name: CheckConnection, Kinds: health.Readiness, Dependency: "nats", Check: c.checkConnection}),
			c.health.Register(health.Check{Name: CheckLag, Kinds: health.Readiness, Dependency: "nats", NonCritical: true,
				CacheTTL: lagCacheTTL, Timeout: 2 * time.Second, Check: c.checkLag}),
		)
		if err != nil {
			return nil, fmt.Errorf("natsjs: health: %w", err)
		}
	}
	return c, nil
}

// URL returns the configured server URL with user information redacted.
func (c *Client) URL() string { return telemetry.RedactURL(c.cfg.URL) }

// Policy returns the resilience policy applied around every publish.
func (c *Client) Policy() *resilience.Policy { return c.policy }

// Conn returns the NATS connection, or nil before Start.
func (c *Client) Conn() *nats.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nc
}

// JetStream returns the JetStream context (to declare streams, say), or nil before
// Start.
func (c *Client) JetStream() jetstream.JetStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.js
}

// Start connects to the broker (within Config.ConnectTimeout and ctx), then creates or
// updates every consumer added with Consume and starts it. A consumer added after
// Start starts at once. Start fails when the broker is unreachable or a consumer's
// stream does not exist; the connection is then closed.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("natsjs: Start called twice")
	}
	c.started = true
	c.mu.Unlock()

	opts := []nats.Option{
		nats.Timeout(c.cfg.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.log.Warn("nats: disconnected", "url", c.URL(), "error", errString(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("nats: reconnected", "server", telemetry.RedactURL(nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			c.log.Warn("nats: asynchronous error", "subject", subj, "error", err.Error())
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
	}
	if c.name != "" {
		opts = append(opts, nats.Name(c.name))
	}
	if c.cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.cfg.CredsFile))
	}
	if c.cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.cfg.TLSCAFile))
	}
	if c.cfg.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(c.cfg.TLSCertFile, c.cfg.TLSKeyFile))
	}
	opts = append(opts, c.natsOpts...)
	nc, err := connect(ctx, c.cfg.URL, opts)
	if err != nil {
		return fmt.Errorf("natsjs: connect to NATS_URL %s: %w", c.URL(), redactErr(err, c.cfg.URL))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("natsjs: jetstream: %w", err)
	}
	c.mu.Lock()
	c.nc, c.js = nc, js
	consumers := append([]*Consumer(nil), c.consumers...)
	c.mu.Unlock()
	c.log.Info("nats: connected", "server", nc.ConnectedUrlRedacted())

	for _, k := range consumers {
		if err := k.start(ctx, js); err != nil {
			_ = c.Stop(context.WithoutCancel(ctx))
			return err
		}
	}
	if c.health != nil {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		gate, err := c.health.WatchCheck(wctx, health.Readiness, "shutdown")
		if err != nil {
			cancel()
		} else {
			c.stopWatch, c.watchDone = cancel, make(chan struct{})
			go c.watchShutdown(gate)
		}
	}
	return nil
}

// connect dials the broker, giving up when ctx ends.
func connect(ctx context.Context, url string, opts []nats.Option) (*nats.Conn, error) {
	type result struct {
		nc  *nats.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(url, opts...)
		ch <- result{nc, err}
	}()
	select {
	case r := <-ch:
		return r.nc, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// watchShutdown stops the consumers' fetching when the readiness shutdown gate fails.
func (c *Client) watchShutdown(gate <-chan health.Status) {
	defer close(c.watchDone)
	for st := range gate {
		if st == health.StatusFail {
			c.log.Info("nats: readiness failed at shutdown: consumers stop fetching")
			c.stopFetching()
			// Keep reading until the watch ends, so the registry never blocks.
		}
	}
}

func (c *Client) stopFetching() {
	c.mu.Lock()
	consumers := append([]*Consumer(nil), c.consumers...)
	c.mu.Unlock()
	for _, k := range consumers {
		k.stopFetching()
	}
}

// Stop stops the client in the order a graceful shutdown needs, within ctx: the
// consumers stop fetching (if readiness has not stopped them already), messages
// received but not yet handed to a handler are given back at once (nak), handlers in
// flight finish, their messages acknowledged or given back; when ctx ends first, the
// handlers' contexts are cancelled and what they return is given back too. Then the
// connection drains: pending publishes and acknowledgements are flushed before it
// closes. Publish fails with ErrNotStarted from then on.
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopCalled || c.nc == nil {
		c.stopCalled, c.closing = true, true
		c.mu.Unlock()
		return nil
	}
	c.stopCalled = true
	nc := c.nc
	consumers := append([]*Consumer(nil), c.consumers...)
	c.mu.Unlock()

	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, k := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := k.stop(ctx); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if c.stopWatch != nil {
		c.stopWatch()
		<-c.watchDone
	}
	if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, fmt.Errorf("natsjs: drain: %w", err))
		nc.Close()
	}
	select {
	case <-c.closed:
	case <-ctx.Done():
		nc.Close()
		<-c.closed
		errs = append(errs, fmt.Errorf("natsjs: connection drain: %w", ctx.Err()))
	}
	c.log.Info("nats: connection drained and closed")
	return errors.Join(errs...)
}

// checkConnection is the readiness check of the connection.
func (c *Client) checkConnection(context.Context) error {
	nc := c.Conn()
	if nc == nil {
		return errors.New("not connected yet")
	}
	if st := nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("connection %s", strings.ToLower(st.String()))
	}
	return nil
}

// checkLag asks the broker for every consumer's pending count, sets the lag gauge,
// and warns when one is above its threshold.
func (c *Client) checkLag(ctx context.Context) error {
	c.mu.Lock()
	consumers := append([]*Consumer(nil), c.consumers...)
	c.mu.Unlock()
	var errs []error
	for _, k := range consumers {
		n, err := k.pending(ctx)
		if errors.Is(err, errNotStarted) {
			continue // the connection check says so
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("consumer %s: %w", k.cfg.Durable, err))
			continue
		}
		if n > uint64(k.cfg.LagWarn) {
			errs = append(errs, fmt.Errorf("consumer %s: %d messages pending, above %d", k.cfg.Durable, n, k.cfg.LagWarn))
		}
	}
	return errors.Join(errs...)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// redactErr returns err with any URL user information of url hidden.
func redactErr(err error, url string) error {
	msg := err.Error()
	red := telemetry.RedactURL(msg)
	for _, u := range splitURLs(url) {
		red = strings.ReplaceAll(red, u, telemetry.RedactURL(u))
	}
	if red == msg {
		return err
	}
	return errors.New(red)
}
