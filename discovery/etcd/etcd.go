package etcd

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/paved-road/paved/discovery"
)

// DefaultPrefix is the key prefix under which instances are stored.
const DefaultPrefix = "/paved/services"

// Key returns the key of the instance id of service under prefix.
func Key(prefix, service, id string) string {
	return prefix + "/" + service + "/" + id
}

// BackendOption configures a [Backend], which passes each option on to its registrar,
// its instancers or both, as the option's kind says. Every option is a BackendOption.
type BackendOption interface {
	apply(*options)
}

// RegistrarOption configures a [Registrar]: an [Option] (etcd has no registrar-only
// option yet).
// Passing an instancer's option to [NewRegistrar] does not compile, so no option is a
// silent no-op.
type RegistrarOption interface {
	BackendOption
	registrar()
}

// InstancerOption configures an [Instancer]: an [Option] or an instancer's own option.
type InstancerOption interface {
	BackendOption
	instancer()
}

// Option configures a [Registrar] and an [Instancer] alike.
type Option func(*options)

func (f Option) apply(o *options) { f(o) }
func (Option) registrar()         {}
func (Option) instancer()         {}

type instancerOption func(*options)

func (f instancerOption) apply(o *options) { f(o) }
func (instancerOption) instancer()         {}

// split returns the options of a Backend that apply to its registrar and to its
// instancers.
func split(opts []BackendOption) (reg []RegistrarOption, inst []InstancerOption) {
	for _, o := range opts {
		if r, ok := o.(RegistrarOption); ok {
			reg = append(reg, r)
		}
		if i, ok := o.(InstancerOption); ok {
			inst = append(inst, i)
		}
	}
	return reg, inst
}

type options struct {
	prefix        string
	logger        *slog.Logger
	cacheOpts     []discovery.CacheOption
	revisionCheck time.Duration
}

// WithPrefix sets the key prefix: it starts with '/' and does not end with one. The
// default is [DefaultPrefix].
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithLogger sets the logger for lost leases and watch errors. Nil, the default,
// discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithCacheOptions passes options to the [discovery.Cache] of an [Instancer] (which
// statuses are ready, which address the go-kit view lists).
func WithCacheOptions(opts ...discovery.CacheOption) InstancerOption {
	return instancerOption(func(o *options) { o.cacheOpts = append(o.cacheOpts, opts...) })
}

// WithRevisionCheck sets how often an [Instancer] checks that etcd's revision did not go
// back, which happens when etcd was restarted empty; it then reads the service again.
// The default is 5 s.
func WithRevisionCheck(d time.Duration) InstancerOption {
	return instancerOption(func(o *options) { o.revisionCheck = d })
}

func newOptions[O BackendOption](opts []O) (options, error) {
	o := options{prefix: DefaultPrefix, revisionCheck: 5 * time.Second}
	for _, f := range opts {
		f.apply(&o)
	}
	if !strings.HasPrefix(o.prefix, "/") || strings.HasSuffix(o.prefix, "/") {
		return o, fmt.Errorf("etcd: prefix must start with '/' and not end with '/', as in %q, got %q", DefaultPrefix, o.prefix)
	}
	if o.revisionCheck <= 0 {
		return o, fmt.Errorf("etcd: revision check interval must be positive, got %v", o.revisionCheck)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// NewClient returns an etcd client for endpoints (URLs such as http://127.0.0.1:2379)
// with settings suited to registration: reconnection attempts at most a second apart, so
// an instance appears soon after etcd comes back; keepalive probes that notice a dead
// connection within seconds; and the client's own logging off. The connection is made in
// the background: NewClient does not fail when etcd is down. Close the client when done.
func NewClient(endpoints []string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("etcd: no endpoints; set ETCD_ENDPOINTS to a comma-separated list such as http://127.0.0.1:2379")
	}
	for _, e := range endpoints {
		if e == "" {
			return nil, fmt.Errorf("etcd: empty endpoint in %q", endpoints)
		}
	}
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	})
}
