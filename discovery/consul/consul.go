package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/paved-road/paved/discovery"
)

// Reserved service meta keys.
const (
	MetaID      = "paved-id"      // Instance.ID
	MetaVersion = "paved-version" // Instance.Version
	MetaHTTP    = "paved-http"    // Addresses.HTTP
	MetaAdmin   = "paved-admin"   // Addresses.Admin
	MetaGRPC    = "paved-grpc"    // Addresses.GRPC
)

// ReservedMetaPrefix starts the service meta keys the backend reserves; instance
// metadata keys may not start with it.
const ReservedMetaPrefix = "paved-"

// DefaultDeregisterCriticalAfter is how long a service's check may stay critical before
// Consul removes the service, unless [WithDeregisterCriticalAfter] says otherwise.
// Consul does not accept less than a minute.
const DefaultDeregisterCriticalAfter = time.Minute

// BackendOption configures a [Backend], which passes each option on to its registrar,
// its instancers or both, as the option's kind says. Every option is a BackendOption.
type BackendOption interface {
	apply(*options)
}

// RegistrarOption configures a [Registrar]: an [Option] or a registrar's own option.
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

type registrarOption func(*options)

func (f registrarOption) apply(o *options) { f(o) }
func (registrarOption) registrar()         {}

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
	deregAfter time.Duration
	logger     *slog.Logger
	cacheOpts  []discovery.CacheOption
	wait       time.Duration
}

// WithDeregisterCriticalAfter sets the check's DeregisterCriticalServiceAfter. The default
// is [DefaultDeregisterCriticalAfter].
func WithDeregisterCriticalAfter(d time.Duration) RegistrarOption {
	return registrarOption(func(o *options) { o.deregAfter = d })
}

// WithLogger sets the logger for query errors. Nil, the default, discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithCacheOptions passes options to the [discovery.Cache] of an [Instancer].
func WithCacheOptions(opts ...discovery.CacheOption) InstancerOption {
	return instancerOption(func(o *options) { o.cacheOpts = append(o.cacheOpts, opts...) })
}

// WithWaitTime sets how long one blocking query of an [Instancer] waits for a change.
// The default is 5 minutes, Consul's own.
func WithWaitTime(d time.Duration) InstancerOption {
	return instancerOption(func(o *options) { o.wait = d })
}

func newOptions[O BackendOption](opts []O) (options, error) {
	o := options{deregAfter: DefaultDeregisterCriticalAfter, wait: 5 * time.Minute}
	for _, f := range opts {
		f.apply(&o)
	}
	if o.deregAfter <= 0 {
		return o, fmt.Errorf("consul: DeregisterCriticalServiceAfter must be positive (Consul accepts 1m or more), got %v", o.deregAfter)
	}
	if o.wait <= 0 {
		return o, fmt.Errorf("consul: wait time must be positive, got %v", o.wait)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// ServiceID returns the Consul service id of an instance.
func ServiceID(inst discovery.Instance) string { return inst.Service + "-" + inst.ID }

// CheckID returns the id of the TTL check of an instance.
func CheckID(inst discovery.Instance) string { return "service:" + ServiceID(inst) }

// Registrar is a [discovery.Registrar] on a Consul agent. It is safe for concurrent use.
type Registrar struct {
	client     *api.Client
	deregAfter time.Duration
}

var _ discovery.Registrar = (*Registrar)(nil)

// NewRegistrar returns a registrar on client's agent.
func NewRegistrar(client *api.Client, opts ...RegistrarOption) (*Registrar, error) {
	if client == nil {
		return nil, errors.New("consul: NewRegistrar: client is nil; create one with api.NewClient")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Registrar{client: client, deregAfter: o.deregAfter}, nil
}

func validate(inst discovery.Instance) error {
	if err := inst.Validate(); err != nil {
		return err
	}
	var p []discovery.Problem
	if len(inst.Metadata) > discovery.MaxMetadataKeys-5 {
		p = append(p, discovery.Problem{Field: "metadata", Message: fmt.Sprintf("must have at most %d keys with Consul, which reserves 5 of its 64 meta keys, got %d", discovery.MaxMetadataKeys-5, len(inst.Metadata))})
	}
	for k := range inst.Metadata {
		if strings.HasPrefix(k, ReservedMetaPrefix) {
			p = append(p, discovery.Problem{Field: "metadata", Message: fmt.Sprintf("key must not start with %q, reserved by the Consul backend, got %q", ReservedMetaPrefix, k)})
		}
	}
	if len(p) > 0 {
		return &discovery.ValidationError{Problems: p}
	}
	return nil
}

// Register implements [discovery.Registrar]: it registers the instance as an agent
// service with a TTL check in the instance's status, replacing an earlier registration.
func (r *Registrar) Register(ctx context.Context, inst discovery.Instance) error {
	if err := validate(inst); err != nil {
		return err
	}
	meta := maps.Clone(inst.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[MetaID] = inst.ID
	meta[MetaVersion] = inst.Version
	for k, v := range map[string]string{MetaHTTP: inst.Addresses.HTTP, MetaAdmin: inst.Addresses.Admin, MetaGRPC: inst.Addresses.GRPC} {
		if v != "" {
			meta[k] = v
		}
	}
	main := inst.Addresses.HTTP
	if main == "" {
		main = inst.Addresses.GRPC
	}
	if main == "" {
		main = inst.Addresses.Admin
	}
	host, portStr, _ := net.SplitHostPort(main) // validated above
	port, _ := strconv.Atoi(portStr)
	reg := &api.AgentServiceRegistration{
		ID:      ServiceID(inst),
		Name:    inst.Service,
		Address: host,
		Port:    port,
		Meta:    meta,
		Check: &api.AgentServiceCheck{
			CheckID:                        CheckID(inst),
			Name:                           "paved readiness",
			TTL:                            inst.EffectiveTTL().String(),
			Status:                         string(inst.Status),
			DeregisterCriticalServiceAfter: r.deregAfter.String(),
		},
	}
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.client.Agent().ServiceRegisterOpts(reg, opts); err != nil {
		return fmt.Errorf("consul: register %s: %w", reg.ID, err)
	}
	return nil
}

// Heartbeat implements [discovery.Registrar]: it sets the TTL check to the instance's
// status. An unknown check yields [discovery.ErrUnknownInstance].
func (r *Registrar) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	if !inst.Status.Valid() {
		return fmt.Errorf("consul: heartbeat %s: status must be one of passing, warning, critical, got %q", ServiceID(inst), inst.Status)
	}
	err := r.client.Agent().UpdateTTLOpts(CheckID(inst), "readiness: "+string(inst.Status), string(inst.Status), (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		if unknown(err) {
			return fmt.Errorf("consul: heartbeat %s: %w (%v)", ServiceID(inst), discovery.ErrUnknownInstance, err)
		}
		return fmt.Errorf("consul: heartbeat %s: %w", ServiceID(inst), err)
	}
	return nil
}

// unknown reports whether err is the agent saying it does not know the check or
// service: 404 in recent versions, 500 "does not have associated TTL" in others.
func unknown(err error) bool {
	var se api.StatusError
	if !errors.As(err, &se) {
		return false
	}
	return se.Code == http.StatusNotFound ||
		strings.Contains(se.Body, "does not have associated TTL") ||
		strings.Contains(se.Body, "Unknown check") || strings.Contains(se.Body, "Unknown service")
}

// Deregister implements [discovery.Registrar]: it removes the agent service and its
// check. An unknown service is not an error.
func (r *Registrar) Deregister(ctx context.Context, inst discovery.Instance) error {
	err := r.client.Agent().ServiceDeregisterOpts(ServiceID(inst), (&api.QueryOptions{}).WithContext(ctx))
	if err != nil && !unknown(err) {
		return fmt.Errorf("consul: deregister %s: %w", ServiceID(inst), err)
	}
	return nil
}
