package grpctransport

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/serviceconfig"

	"github.com/paved-road/paved/discovery"
)

// Scheme is the target scheme of [NewResolverBuilder]'s resolver: "paved:///inventory".
const Scheme = "paved"

// roundRobinConfig is the service config the resolver hands gRPC: spread calls over
// every instance rather than pick the first.
const roundRobinConfig = `{"loadBalancingConfig":[{"round_robin":{}}]}`

// LookupFunc returns the instancer of a service, for the resolver. It is called once
// per target (per grpc.ClientConn); the resolver does not stop the instancer.
type LookupFunc func(service string) (discovery.Instancer, error)

// NewResolverBuilder returns a gRPC resolver.Builder for the scheme "paved": the target
// "paved:///inventory" resolves to the gRPC addresses of the ready instances of
// "inventory" found by lookup, kept current as the instancer changes, with round-robin
// balancing. Pass it to one client with grpc.WithResolvers; it is never registered
// globally.
func NewResolverBuilder(lookup LookupFunc) resolver.Builder {
	return &builder{lookup: lookup}
}

// Static returns a [LookupFunc] that knows one service and its instancer.
func Static(service string, in discovery.Instancer) LookupFunc {
	return func(s string) (discovery.Instancer, error) {
		if s != service {
			return nil, fmt.Errorf("grpctransport: no instancer for service %q (only %q)", s, service)
		}
		return in, nil
	}
}

type builder struct{ lookup LookupFunc }

// Scheme implements resolver.Builder: "paved".
func (b *builder) Scheme() string { return Scheme }

// Build implements resolver.Builder: it subscribes to the target service's instancer
// and pushes every change to cc from one goroutine, which Close ends.
func (b *builder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	service := target.Endpoint()
	if service == "" {
		return nil, fmt.Errorf("grpctransport: target %q names no service: want paved:///<service>", target.URL.String())
	}
	in, err := b.lookup(service)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: resolving %q: %w", target.URL.String(), err)
	}
	if in == nil {
		return nil, fmt.Errorf("grpctransport: resolving %q: no instancer for service %q", target.URL.String(), service)
	}
	events, cancel := in.Subscribe()
	r := &pavedResolver{service: service, cc: cc, cancel: cancel, done: make(chan struct{})}
	r.sc = cc.ParseServiceConfig(roundRobinConfig)
	go r.watch(events)
	return r, nil
}

type pavedResolver struct {
	service string
	cc      resolver.ClientConn
	sc      *serviceconfig.ParseResult
	cancel  func()
	done    chan struct{}
	once    sync.Once
}

func (r *pavedResolver) watch(events <-chan discovery.Event) {
	defer close(r.done)
	for ev := range events {
		var eps []resolver.Endpoint
		for _, in := range ev.Instances {
			if a := in.Addresses.GRPC; a != "" {
				eps = append(eps, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
			}
		}
		if len(eps) == 0 {
			err := fmt.Errorf("grpctransport: no ready instance of %q with a gRPC address", r.service)
			if ev.Err != nil {
				err = fmt.Errorf("%w: registry error: %w", err, ev.Err)
			}
			r.cc.ReportError(err)
			continue
		}
		_ = r.cc.UpdateState(resolver.State{Endpoints: eps, ServiceConfig: r.sc})
	}
}

// ResolveNow does nothing: the instancer pushes every change.
func (r *pavedResolver) ResolveNow(resolver.ResolveNowOptions) {}

// Close ends the subscription and waits for the watcher to exit.
func (r *pavedResolver) Close() {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
}
