package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// httpServer adapts *http.Server to [Server].
type httpServer struct{ *http.Server }

func (h httpServer) Serve(l net.Listener) error { return h.Server.Serve(l) }

// Run starts the service and blocks until it has stopped. In order: the admin server
// (probes answer; readiness and startup fail), the start hooks under START_TIMEOUT, the
// public servers and members, then readiness passes. It stops when ctx is cancelled or a
// server or member fails: readiness fails at once, the drain delay passes while the
// servers still serve, the servers shut down gracefully under SHUTDOWN_TIMEOUT, the
// members' contexts are cancelled, the stop hooks run in reverse, telemetry is flushed,
// and the admin server closes last.
//
// Run returns nil after a stop asked for through ctx, and otherwise the error that
// stopped the service joined with any error of the stop itself. It may be called once.
func (s *Service) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	s.startTime = time.Now()
	log := s.logger
	log.Info("service starting", "env", s.cfg.Env, "http_addr", s.cfg.HTTPAddr, "admin_addr", s.cfg.AdminAddr)

	// 1. Admin server: probes answer from here on.
	adminLn, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return fmt.Errorf("service: admin server: %w", err)
	}
	s.mu.Lock()
	s.adminAddr = adminLn.Addr()
	s.mu.Unlock()
	admin := s.newHTTPServer(s.adminHandler(), "admin")
	adminDone := make(chan error, 1)
	go func() { adminDone <- admin.Serve(adminLn) }()
	// Periodic health checks run from here to the very end.
	healthCtx, stopHealth := context.WithCancel(context.WithoutCancel(ctx))
	healthDone := make(chan error, 1)
	go func() { healthDone <- s.health.Run(healthCtx) }()

	stopAdmin := func(ctx context.Context) error {
		err := admin.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, admin.Close())
		}
		<-adminDone
		stopHealth()
		<-healthDone
		return errors.Join(err, s.health.Close())
	}

	// 2. Start hooks, in order, under the start timeout.
	started, err := s.runStartHooks(ctx)
	if err != nil {
		s.state.Store(stateStopping)
		s.health.Shutdown()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, s.runStopHooks(stopCtx, started), s.flush(stopCtx), stopAdmin(stopCtx))
		s.state.Store(stateStopped)
		return err
	}

	// 3. Public servers: bind every listener before serving any.
	public, err := s.publicHandler()
	if err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(fmt.Errorf("service: http middleware: %w", err),
			s.runStopHooks(stopCtx, started), s.flush(stopCtx), stopAdmin(stopCtx))
	}
	servers := []namedServer{{name: "http", addr: s.cfg.HTTPAddr, srv: httpServer{s.newHTTPServer(public, "http")}}}
	servers = append(servers, s.servers...)
	listeners := make([]net.Listener, 0, len(servers))
	for _, sv := range servers {
		l, err := net.Listen("tcp", sv.addr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
			defer cancel()
			return errors.Join(fmt.Errorf("service: %s server: %w", sv.name, err),
				s.runStopHooks(stopCtx, started), s.flush(stopCtx), stopAdmin(stopCtx))
		}
		listeners = append(listeners, l)
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
		for _, l := range listeners {
			_ = l.Close()
		}
		s.logger.Error("refusing to start: required compliance rules fail", "mode", s.cfg.ComplianceMode)
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, s.runStopHooks(stopCtx, started), s.flush(stopCtx), stopAdmin(stopCtx))
	}

	type exit struct {
		name string
		err  error
	}
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
	defer stopMembers()
	for _, m := range s.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exits <- exit{m.name, m.run(memberCtx)}
		}()
	}

	// 4. Ready, and registration in the background: the service serves whether or not
	// the registry is reachable.
	s.state.Store(stateReady)
	s.health.MarkStarted()
	deregister, regErr := s.startRegistration(ctx)
	if regErr != nil {
		log.Error("registration not started", "error", regErr.Error())
	}
	close(s.readyCh)
	log.Info("service ready", "http_addr", s.HTTPAddr().String(), "admin_addr", s.AdminAddr().String(),
		"startup", time.Since(s.startTime).Round(time.Millisecond).String())

	// 5. Wait for a stop.
	var cause error
	select {
	case <-ctx.Done():
		log.Info("service stopping", "reason", context.Cause(ctx).Error())
	case e := <-exits:
		if e.err == nil {
			e.err = fmt.Errorf("service: %s returned", e.name)
			log.Info("service stopping", "reason", e.err.Error())
			if e.name != "http server" {
				e.err = nil // a member that ends without error asks for a clean stop
			}
		} else {
			e.err = fmt.Errorf("service: %s: %w", e.name, e.err)
			log.Error("service stopping", "reason", e.err.Error())
		}
		cause = e.err
	case err := <-adminDone:
		cause = fmt.Errorf("service: admin server: %w", err)
		adminDone <- err // let stopAdmin return
		log.Error("service stopping", "reason", cause.Error())
	}

	// 6. Stop: readiness fails at once, the instance leaves the registry, then the
	// servers drain while still serving.
	s.state.Store(stateStopping)
	s.health.Shutdown()
	deregCtx, cancelDereg := context.WithTimeout(context.WithoutCancel(ctx), deregisterTimeout)
	if err := deregister(deregCtx); err != nil {
		log.Warn("deregistration failed", "error", err.Error())
	}
	cancelDereg()
	if d := s.cfg.DrainDelay; d > 0 {
		log.Info("draining", "drain_delay", d.String())
		time.Sleep(d)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()

	var stopErrs []error
	var swg sync.WaitGroup
	var smu sync.Mutex
	for _, sv := range servers {
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := sv.srv.Shutdown(stopCtx); err != nil {
				smu.Lock()
				stopErrs = append(stopErrs, fmt.Errorf("service: %s server shutdown: %w", sv.name, err))
				smu.Unlock()
			}
		}()
	}
	swg.Wait()
	stopMembers()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-stopCtx.Done():
		stopErrs = append(stopErrs, fmt.Errorf("service: members still running after SHUTDOWN_TIMEOUT (%s)", s.cfg.ShutdownTimeout))
	}
	// Members that stopped with an error while shutting down are failures too.
	for len(exits) > 0 {
		e := <-exits
		if e.err != nil && !errors.Is(e.err, context.Canceled) {
			stopErrs = append(stopErrs, fmt.Errorf("service: %s: %w", e.name, e.err))
		}
	}
	stopErrs = append(stopErrs, s.runStopHooks(stopCtx, started), s.closeAll(), s.flush(stopCtx), stopAdmin(stopCtx))
	s.state.Store(stateStopped)
	err = errors.Join(append([]error{cause}, stopErrs...)...)
	if err != nil {
		log.Error("service stopped", "error", err.Error())
	} else {
		log.Info("service stopped")
	}
	return err
}

// runStartHooks runs the start hooks in order and returns how many hooks count as
// started (their stop must run), and the first error.
func (s *Service) runStartHooks(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	for i, h := range s.hooks {
		if h.OnStart == nil {
			continue
		}
		t := time.Now()
		if err := h.OnStart(ctx); err != nil {
			if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w (START_TIMEOUT %s)", err, s.cfg.StartTimeout)
			}
			s.logger.Error("start hook failed", "hook", h.Name, "error", err.Error())
			return i, fmt.Errorf("service: start hook %q: %w", h.Name, err)
		}
		s.logger.Debug("start hook done", "hook", h.Name, "duration", time.Since(t).String())
	}
	return len(s.hooks), nil
}

// runStopHooks runs the stop hooks of the first n hooks in reverse order, every one of
// them, and joins their errors.
func (s *Service) runStopHooks(ctx context.Context, n int) error {
	var errs []error
	for i := n - 1; i >= 0; i-- {
		h := s.hooks[i]
		if h.OnStop == nil {
			continue
		}
		if err := h.OnStop(ctx); err != nil {
			s.logger.Error("stop hook failed", "hook", h.Name, "error", err.Error())
			errs = append(errs, fmt.Errorf("service: stop hook %q: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Close releases what [New] built (the tracer provider's exporter goroutines) for a
// service that is never run. Run does it itself; Close after Run does nothing.
func (s *Service) Close(ctx context.Context) error {
	if s.ran.Load() {
		return nil
	}
	return s.flush(ctx)
}

// flush flushes and shuts down the telemetry the service owns.
func (s *Service) flush(ctx context.Context) error {
	if s.tracing != nil && s.ownsTracer {
		if err := s.tracing.Shutdown(ctx); err != nil {
			return fmt.Errorf("service: flushing traces: %w", err)
		}
	}
	return nil
}
