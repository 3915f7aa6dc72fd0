package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paved-road/paved/telemetry"
)

// ErrShutdownTimeout is wrapped by [Service.Run]'s error when SHUTDOWN_TIMEOUT ran out
// before the servers and members had stopped: connections with requests in flight
// were closed forcibly. The stop is otherwise complete (stop hooks ran, telemetry was
// flushed). [Main] logs it at error level and exits 0, as Kubernetes treats a pod
// killed at the end of its grace period: see docs/operations.md.
var ErrShutdownTimeout = errors.New("service: SHUTDOWN_TIMEOUT ran out")

// maxFlushTimeout bounds the telemetry flush at the stop, whatever the exporter
// timeout: a trace collector that does not answer costs the stop this much at most.
const maxFlushTimeout = 5 * time.Second

// httpServer adapts *http.Server to [Server]: Shutdown closes the connections still
// busy when ctx ends, and says how many there were.
type httpServer struct {
	*http.Server
	conns *connTracker
}

func (h httpServer) Serve(l net.Listener) error { return h.Server.Serve(l) }

func (h httpServer) Shutdown(ctx context.Context) error {
	err := h.Server.Shutdown(ctx)
	if err == nil {
		return nil
	}
	n := h.conns.busy()
	_ = h.Server.Close()
	return fmt.Errorf("closed %d connections with requests in flight: %w", n, err)
}

// connTracker counts the connections of a server that have a request in flight. It is
// safe for concurrent use.
type connTracker struct {
	// mu guards active.
	mu     sync.Mutex
	active map[net.Conn]struct{}
}

func newConnTracker() *connTracker { return &connTracker{active: map[net.Conn]struct{}{}} }

// track is the server's ConnState hook.
func (c *connTracker) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == http.StateActive {
		c.active[conn] = struct{}{}
	} else {
		delete(c.active, conn)
	}
}

func (c *connTracker) busy() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.active)
}

// Run starts the service and blocks until it has stopped. In order: the admin server
// (probes answer; readiness and startup fail), the start hooks under START_TIMEOUT, the
// public servers and members, then readiness passes. It stops when ctx is cancelled or a
// server or member fails: readiness fails at once, the instance deregisters, the drain
// delay passes while the servers still serve, the servers shut down gracefully under
// SHUTDOWN_TIMEOUT, the members' contexts are cancelled, the stop hooks run in reverse,
// the clients close, telemetry is flushed under its own bound (the exporter timeout,
// at most 5s, apart from SHUTDOWN_TIMEOUT), and the admin server closes last.
//
// Each step that has started is undone, in reverse, whatever step fails: a start that
// fails halfway leaves nothing running. Run logs the error that ends it once, as one
// record ("service not started" or "service stopped"). Spans the collector did not
// take within the flush bound are dropped and logged as a warning; they are not an
// error of the stop.
//
// Run returns nil after a stop asked for through ctx, and otherwise the error that
// stopped the service joined with any error of the stop itself; a forced close at
// SHUTDOWN_TIMEOUT wraps [ErrShutdownTimeout]. It may be called once.
func (s *Service) Run(ctx context.Context) (err error) {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	s.startTime = time.Now()
	s.logger.Info("service starting", "env", s.cfg.Env, "http_addr", s.cfg.HTTPAddr, "admin_addr", s.cfg.AdminAddr)

	// What New and setup built is Run's to release from here on. The admin server is
	// at the bottom of the stack, so it serves probes and metrics through the whole stop.
	var st stack
	admin := &adminStage{s: s}
	st.push("admin server", admin.stop)
	st.pushOwn("telemetry", s.flushAtStop)
	st.push("clients", func(context.Context) error { return s.closeAll() })

	cause := s.serve(ctx, &st, admin)

	s.state.Store(stateStopping)
	s.health.Shutdown()
	stopErr := st.unwind(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout, s.logger)
	s.state.Store(stateStopped)
	err = errors.Join(cause, stopErr)
	switch {
	case err == nil:
		s.logger.Info("service stopped")
	case !isReady(s.readyCh):
		s.logger.Error("service not started", "error", err.Error())
	case onlyShutdownTimeout(err):
		s.logger.Error("service stopped", "error", err.Error(),
			"hint", "requests were cut: raise SHUTDOWN_TIMEOUT (and terminationGracePeriodSeconds), or make the handlers end with their context")
	default:
		s.logger.Error("service stopped", "error", err.Error())
	}
	return err
}

// isReady reports whether ch (the service's readyCh) is closed.
func isReady(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// serve starts the service step by step, pushing each started step's stage on st,
// then waits for the stop. It returns the error that ended the service: nil for a stop
// asked for through ctx.
func (s *Service) serve(ctx context.Context, st *stack, admin *adminStage) error {
	if err := s.checkServers(); err != nil {
		return err
	}
	if err := s.publishGRPC(); err != nil {
		return err
	}

	// 1. Admin server: probes answer from here on.
	if err := admin.start(ctx); err != nil {
		return err
	}

	// 2. Start hooks, in order, under the start timeout.
	if err := s.runStartHooks(ctx, st); err != nil {
		return err
	}

	// 3. Public servers: bind every listener before serving any.
	public, err := s.publicHandler()
	if err != nil {
		return fmt.Errorf("service: http middleware: %w", err)
	}
	conns := newConnTracker()
	hs := s.newHTTPServer(public, "http")
	hs.ConnState = conns.track
	servers := []namedServer{{name: "http", setting: "HTTP_ADDR", addr: s.cfg.HTTPAddr, srv: httpServer{hs, conns}}}
	servers = append(servers, s.servers...)
	listeners := make([]net.Listener, 0, len(servers))
	for _, sv := range servers {
		l, err := net.Listen("tcp", sv.addr)
		if err != nil {
			return listenError(sv.name, sv.setting, err)
		}
		st.push(sv.name+" listener", func(context.Context) error {
			_ = l.Close() // closed already once its server has shut down
			return nil
		})
		served := l
		if sv.name == "http" && sv.setting == "HTTP_ADDR" {
			for _, wrap := range s.httpListener {
				served = wrap(served)
			}
		}
		listeners = append(listeners, served)
	}
	s.mu.Lock()
	s.httpAddr = listeners[0].Addr()
	for i, sv := range servers {
		if sv.name == "grpc" {
			s.boundGRPC = listeners[i].Addr().String()
		}
	}
	s.mu.Unlock()

	// Compliance, before any traffic: an enforced failure never becomes ready.
	if _, err := s.evaluateCompliance(ctx); err != nil {
		return err
	}

	// 4. Serve, and run the members.
	exits := make(chan exit, len(servers)+len(s.members))
	var wg sync.WaitGroup
	for i, sv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := sv.srv.Serve(listeners[i])
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			exits <- exit{sv.name + " server", err}
		}()
	}
	memberCtx, stopMembers := context.WithCancel(context.WithoutCancel(ctx))
	var running atomic.Int32 // members
	for _, m := range s.members {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			exits <- exit{m.name, m.run(memberCtx)}
		}()
	}
	st.push("servers and members", func(ctx context.Context) error {
		errs := s.shutdownServers(ctx, servers)
		stopMembers()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			// The servers' Serve returns once their Shutdown has; only members can
			// still be running.
			if n := running.Load(); n > 0 {
				errs = append(errs, fmt.Errorf("%w (%s): %d members still running", ErrShutdownTimeout, s.cfg.ShutdownTimeout, n))
			}
		}
		// Members that stopped with an error while shutting down are failures too.
		for len(exits) > 0 {
			e := <-exits
			if e.err != nil && !errors.Is(e.err, context.Canceled) {
				errs = append(errs, fmt.Errorf("service: %s: %w", e.name, e.err))
			}
		}
		return errors.Join(errs...)
	})
	// The drain delay passes while the servers still serve, once readiness has failed.
	st.pushOwn("drain delay", func(context.Context) error {
		if d := s.cfg.DrainDelay; d > 0 {
			s.logger.Info("draining", "drain_delay", d.String())
			time.Sleep(d)
		}
		return nil
	})

	// 5. Ready, and registration in the background: the service serves whether or not
	// the registry is reachable.
	s.state.Store(stateReady)
	s.health.MarkStarted()
	deregister, regErr := s.startRegistration(ctx)
	if regErr != nil {
		s.logger.Error("registration not started", "error", regErr.Error())
	}
	st.pushOwn("registration", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, deregisterTimeout)
		defer cancel()
		if err := deregister(ctx); err != nil {
			s.logger.Warn("deregistration failed", "error", err.Error())
		}
		return nil
	})
	close(s.readyCh)
	s.logger.Info("service ready", "http_addr", s.HTTPAddr().String(), "admin_addr", s.AdminAddr().String(),
		"startup", time.Since(s.startTime).Round(time.Millisecond).String())

	// 6. Wait for a stop.
	return s.wait(ctx, exits, admin)
}

// exit is how a server or member ended.
type exit struct {
	name string
	err  error
}

// wait blocks until ctx ends or a server, member or the admin server ends, and
// returns the error that stops the service.
func (s *Service) wait(ctx context.Context, exits <-chan exit, admin *adminStage) error {
	select {
	case <-ctx.Done():
		s.logger.Info("service stopping", "reason", context.Cause(ctx).Error())
		return nil
	case e := <-exits:
		if e.err == nil {
			err := fmt.Errorf("service: %s returned", e.name)
			s.logger.Info("service stopping", "reason", err.Error())
			if e.name != "http server" {
				return nil // a member that ends without error asks for a clean stop
			}
			return err
		}
		// The error itself is in Run's last record.
		s.logger.Info("service stopping", "reason", e.name+" failed")
		return fmt.Errorf("service: %s: %w", e.name, e.err)
	case err := <-admin.done:
		admin.done <- err // for the admin stage's stop
		s.logger.Info("service stopping", "reason", "admin server failed")
		return fmt.Errorf("service: admin server: %w", err)
	}
}

// shutdownServers shuts the servers down gracefully, all at once, under ctx.
func (s *Service) shutdownServers(ctx context.Context, servers []namedServer) []error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, sv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sv.srv.Shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, s.shutdownError(ctx, sv.name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// shutdownError names the server whose Shutdown failed, as a forced close when ctx
// (SHUTDOWN_TIMEOUT) ran out.
func (s *Service) shutdownError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%s): %s server: %v", ErrShutdownTimeout, s.cfg.ShutdownTimeout, name, err)
	}
	return fmt.Errorf("service: %s server shutdown: %w", name, err)
}

// listenError names the server that could not listen and the setting that gave its
// address.
func listenError(name, setting string, err error) error {
	if setting == "" {
		setting = "the address given to AddServer"
	}
	return fmt.Errorf("service: %s server (%s): %w", name, setting, err)
}

// onlyShutdownTimeout reports whether every error joined in err is a forced close at
// SHUTDOWN_TIMEOUT.
func onlyShutdownTimeout(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyShutdownTimeout(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, ErrShutdownTimeout)
}

// checkServers refuses a setting that asks for a server the service does not have.
func (s *Service) checkServers() error {
	if s.cfg.GRPCAddr == "" {
		return nil
	}
	for _, sv := range s.servers {
		if sv.name == "grpc" {
			return nil
		}
	}
	return &ConfigError{Problems: []Problem{{Var: "GRPC_ADDR", Value: s.cfg.GRPCAddr,
		Msg: "is set, but this service registers no gRPC server (it never calls Service.GRPC): unset GRPC_ADDR, or call Service.GRPC in setup and register the gRPC services on it"}}}
}

// adminStage is the admin server and the periodic health checks, the first step of
// Run to start and the last to stop.
type adminStage struct {
	s          *Service
	srv        httpServer
	done       chan error
	stopHealth context.CancelFunc
	healthDone chan error
}

// start binds ADMIN_ADDR and serves the admin endpoints; the periodic health checks
// run from here to the very end.
func (a *adminStage) start(ctx context.Context) error {
	s := a.s
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return listenError("admin", "ADMIN_ADDR", err)
	}
	s.mu.Lock()
	s.adminAddr = ln.Addr()
	s.mu.Unlock()
	conns := newConnTracker()
	hs := s.newHTTPServer(s.adminHandler(), "admin")
	hs.ConnState = conns.track
	a.srv = httpServer{hs, conns}
	a.done = make(chan error, 1)
	go func() { a.done <- a.srv.Serve(ln) }()
	healthCtx, stopHealth := context.WithCancel(context.WithoutCancel(ctx))
	a.stopHealth, a.healthDone = stopHealth, make(chan error, 1)
	go func() { a.healthDone <- s.health.Run(healthCtx) }()
	return nil
}

// stop shuts the admin server down and ends the health checks; it does nothing if the
// admin server never started.
func (a *adminStage) stop(ctx context.Context) error {
	if a.done == nil {
		return a.s.health.Close()
	}
	var err error
	if e := a.srv.Shutdown(ctx); e != nil {
		err = a.s.shutdownError(ctx, "admin", e)
	}
	<-a.done
	a.stopHealth()
	<-a.healthDone
	return errors.Join(err, a.s.health.Close())
}

// runStartHooks runs the start hooks in order under START_TIMEOUT, pushing the stop
// of each hook that counts as started (its OnStart succeeded, or it has none), and
// returns the first error.
func (s *Service) runStartHooks(ctx context.Context, st *stack) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	for _, h := range s.hooks {
		if h.OnStart != nil {
			t := time.Now()
			if err := h.OnStart(ctx); err != nil {
				if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
					err = fmt.Errorf("%w (START_TIMEOUT %s)", err, s.cfg.StartTimeout)
				}
				return fmt.Errorf("service: start hook %q: %w", h.Name, err)
			}
			s.logger.Debug("start hook done", "hook", h.Name, "duration", time.Since(t).String())
		}
		if h.OnStop != nil {
			st.push("stop hook "+h.Name, func(ctx context.Context) error {
				if err := h.OnStop(ctx); err != nil {
					return fmt.Errorf("service: stop hook %q: %w", h.Name, err)
				}
				return nil
			})
		}
	}
	return nil
}

// Close releases what [New] and setup built (the clients and instancers made with
// [Service.Client] and [Service.Instancer], the tracer provider's exporter goroutines)
// for a service that is never run. Run does it itself; Close after Run does nothing.
func (s *Service) Close(ctx context.Context) error {
	if s.ran.Load() {
		return nil
	}
	return errors.Join(s.closeAll(), s.flush(ctx))
}

// flushAtStop flushes the telemetry at the stop under its own bound: the longest
// exporter timeout of the signals exported, at most maxFlushTimeout. Spans, metrics and
// log records the collector did not take in that time are dropped and logged, not an
// error of the stop.
func (s *Service) flushAtStop(ctx context.Context) error {
	if (s.tracing == nil || !s.ownsTracer) && s.signals == nil {
		return nil
	}
	d := s.cfg.Tracing.Timeout
	setting := "OTEL_EXPORTER_OTLP_TIMEOUT"
	if d <= 0 {
		d = telemetry.DefaultOTLPTimeout
	}
	if s.signals != nil {
		for _, o := range []struct {
			t       time.Duration
			setting string
		}{{s.cfg.Tracing.Metrics.OTLP.Timeout, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"}, {s.cfg.Tracing.Logs.OTLP.Timeout, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"}} {
			if o.t > d {
				d, setting = o.t, o.setting
			}
		}
	}
	d = min(d, maxFlushTimeout)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.Now()
	if err := s.flush(ctx); err != nil {
		msg := "spans dropped at the stop: the trace collector did not take them in time"
		if s.signals != nil {
			msg = "spans, metrics or log records dropped at the stop: the collector did not take them in time"
		}
		s.logger.Warn(msg,
			"flush_timeout", d.String(), "setting", setting,
			"took", time.Since(t).Round(time.Millisecond).String(), "error", err.Error())
	}
	return nil
}

// flush flushes and shuts down the telemetry the service owns: spans, then metrics,
// then log records (last, so the records of the stop go too).
func (s *Service) flush(ctx context.Context) error {
	var errs []error
	if s.tracing != nil && s.ownsTracer {
		if err := s.tracing.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("service: flushing traces: %w", err))
		}
	}
	if s.signals != nil {
		if err := s.signals.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("service: flushing metrics and logs: %w", err))
		}
	}
	return errors.Join(errs...)
}
