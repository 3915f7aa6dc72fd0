package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes of [Main].
const (
	ExitOK      = 0 // stopped cleanly, or stopped with a forced close at SHUTDOWN_TIMEOUT
	ExitFailure = 1 // a runtime failure (a port in use, a failed start hook...), or a forced stop on a second signal
	ExitConfig  = 2 // invalid configuration, or compliance enforced and failed
)

// Main runs a whole service and exits the process: it loads the team's config struct C
// (which embeds [Config]) from the environment, builds the service, calls setup to add
// handlers and hooks, and runs it until SIGTERM or SIGINT. A second signal forces the
// exit. The exit code is [ExitConfig] for configuration problems, [ExitFailure] for a
// runtime failure, [ExitOK] otherwise, including a stop whose only problem is a forced
// close at SHUTDOWN_TIMEOUT ([ErrShutdownTimeout], logged at error level). Problems
// found before the service's logger exists (loading the configuration) are printed on
// stderr; every later error that ends the program is logged once, as one record that
// says what failed and which setting caused it.
//
//	func main() {
//		service.Main(info, func(s *service.Service, cfg *Config) error {
//			s.HandleFunc("GET /hello", hello(cfg.Greeting))
//			return nil
//		})
//	}
func Main[C any, PC interface {
	*C
	Base() *Config
}](info Info, setup func(s *Service, cfg PC) error, opts ...Option) {
	os.Exit(run[C, PC](context.Background(), info, setup, os.Stderr, signalSource, opts...))
}

// signalSource delivers SIGINT and SIGTERM on ch until stop is called.
func signalSource(ch chan<- os.Signal) (stop func()) {
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	return func() { signal.Stop(ch) }
}

// run is Main without os.Exit, for tests.
func run[C any, PC interface {
	*C
	Base() *Config
}](ctx context.Context, info Info, setup func(*Service, PC) error, stderr io.Writer,
	signals func(chan<- os.Signal) func(), opts ...Option) int {
	cfg, err := Load[C]()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitConfig
	}
	pc := PC(&cfg)
	s, err := New(info, pc.Base(), append([]Option{WithConfig(pc)}, opts...)...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitCode(err)
	}
	if setup != nil {
		if err := setup(s, pc); err != nil {
			err = fmt.Errorf("service: setup: %w", err)
			s.Logger().Error("service not started", "error", err.Error())
			_ = s.Close(context.WithoutCancel(ctx))
			return exitCode(err)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan os.Signal, 2)
	stop := signals(ch)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case sig := <-ch:
			cancel(fmt.Errorf("signal %s", sig))
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			s.Logger().Error("second signal: forcing exit", "signal", sig.String())
			os.Exit(ExitFailure)
		case <-done:
		}
	}()
	// Run logs its error itself, once.
	return exitCode(s.Run(ctx))
}

// exitCode maps Run's error to an exit code.
func exitCode(err error) int {
	if err == nil || onlyShutdownTimeout(err) {
		return ExitOK
	}
	var ce *ConfigError
	if errors.As(err, &ce) || isComplianceError(err) {
		return ExitConfig
	}
	return ExitFailure
}
