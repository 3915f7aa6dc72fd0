package httptransport

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/resilience"
)

// ClientOption configures [NewClient].
type ClientOption func(*clientOptions)

type clientOptions struct {
	instancer discovery.Instancer
	balance   Balance
	ejection  time.Duration
	policy    *resilience.Policy
	tp        trace.TracerProvider
	prop      propagation.TextMapPropagator
	reg       prometheus.Registerer
	base      http.RoundTripper
	recorders []func(Dependency)
	apis      []string
}

// WithInstancer makes the client find its dependency's instances through in: requests
// to http://<name>/... go to the HTTP address of one of its ready instances, chosen by
// the [Balance] (round robin by default). Without it, requests go where their URL
// says.
func WithInstancer(in discovery.Instancer) ClientOption {
	return func(o *clientOptions) { o.instancer = in }
}

// WithBalance chooses how requests spread over the instances; the default is
// [RoundRobin].
func WithBalance(b Balance) ClientOption { return func(o *clientOptions) { o.balance = b } }

// WithEjection sets how long an instance that failed at the transport level is passed
// over; 0 means [DefaultEjection], a negative value never passes one over.
func WithEjection(d time.Duration) ClientOption { return func(o *clientOptions) { o.ejection = d } }

// WithPolicy runs every request under p: its rate limit, bulkhead, timeouts, retries and
// circuit breaker (see resilience.Policy.RoundTripper). Each retry picks an instance
// again, so a retry after a failed instance goes to another one.
func WithPolicy(p *resilience.Policy) ClientOption { return func(o *clientOptions) { o.policy = p } }

// WithTracerProvider gives every request a client span from tp. Without it, the trace
// context of the request's context is still propagated.
func WithTracerProvider(tp trace.TracerProvider) ClientOption {
	return func(o *clientOptions) { o.tp = tp }
}

// WithPropagator injects the trace context into requests with prop; nil (the default)
// means W3C tracecontext and baggage.
func WithPropagator(prop propagation.TextMapPropagator) ClientOption {
	return func(o *clientOptions) { o.prop = prop }
}

// WithRegisterer records http_client_request_duration_seconds on reg, with the
// dependency's name as server_address; nil means no metrics.
func WithRegisterer(reg prometheus.Registerer) ClientOption {
	return func(o *clientOptions) { o.reg = reg }
}

// WithTransport sets the RoundTripper that sends the requests; the default is a clone of
// http.DefaultTransport owned (and closed) by the client.
func WithTransport(rt http.RoundTripper) ClientOption { return func(o *clientOptions) { o.base = rt } }

// WithRecorder calls record once with the client's [Dependency], so the service can
// report it to the catalog and to the compliance check ([Dependencies.Record] fits).
func WithRecorder(record func(Dependency)) ClientOption {
	return func(o *clientOptions) {
		if record != nil {
			o.recorders = append(o.recorders, record)
		}
	}
}

// WithAPI names the APIs of the dependency the client calls (its providesApis names,
// such as "inventory-http-v1"), so the service reports which API of which dependency
// it consumes. Each name must be a valid API name ([catalog.IsAPIName]); NewClient
// fails on one that is not.
func WithAPI(names ...string) ClientOption {
	return func(o *clientOptions) { o.apis = append(o.apis, names...) }
}

// CheckAPINames returns an error naming the first of names that is not a valid API name.
func CheckAPINames(names []string) error {
	for _, n := range names {
		if !catalog.IsAPIName(n) {
			return fmt.Errorf("API name must be %s, got %q", catalog.APINameRule, catalog.Clip(n))
		}
	}
	return nil
}

// Client calls one named dependency over HTTP. Its [Client.HTTP] is an ordinary
// *http.Client whose requests, from the outside in, carry the request id of their
// context (X-Request-ID), get a client span and a http_client_request_duration_seconds
// observation, run under the resilience policy, and, with an instancer, are sent to one
// of the dependency's instances.
//
// A Client is safe for concurrent use. Create it with [NewClient] and Close it when done;
// the zero value is not usable.
type Client struct {
	name     string
	http     *http.Client
	bal      *balancer
	owned    *http.Transport
	dep      Dependency
	closeOne sync.Once
}

// NewClient returns a client for the dependency name, which is also the host that
// requests to it use (http://inventory/items/1) and its metrics' server_address. name
// must be a valid service name ([discovery.ValidateServiceName]).
func NewClient(name string, opts ...ClientOption) (*Client, error) {
	if err := discovery.ValidateServiceName(name); err != nil {
		return nil, fmt.Errorf("httptransport: dependency name: %w", err)
	}
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := CheckAPINames(o.apis); err != nil {
		return nil, fmt.Errorf("httptransport: client %q: WithAPI: %w", name, err)
	}
	if o.balance != RoundRobin && o.balance != PowerOfTwo {
		return nil, fmt.Errorf("httptransport: client %q: balance must be RoundRobin or PowerOfTwo, got %v", name, o.balance)
	}
	metrics, err := NewClientMetrics(o.reg)
	if err != nil {
		return nil, fmt.Errorf("httptransport: client %q: %w", name, err)
	}
	c := &Client{name: name}
	rt := o.base
	if rt == nil {
		c.owned = http.DefaultTransport.(*http.Transport).Clone()
		c.owned.MaxIdleConnsPerHost = 64
		rt = c.owned
	}
	if o.instancer != nil {
		ej := o.ejection
		if ej == 0 {
			ej = DefaultEjection
		}
		c.bal = newBalancer(name, o.instancer, o.balance, ej, rt)
		rt = c.bal
	}
	if o.policy != nil {
		rt = o.policy.RoundTripper(rt)
	}
	rt = ClientTelemetry(rt, ClientTelemetryOptions{TracerProvider: o.tp, Propagator: o.prop, Metrics: metrics})
	rt = requestIDTransport{next: rt}
	c.http = &http.Client{Transport: rt}
	c.dep = Dependency{
		Name:      name,
		Protocol:  "http",
		Paved:     true,
		Breaker:   o.policy != nil && o.policy.HasBreaker(),
		Timeout:   o.policy != nil && o.policy.HasTimeout(),
		Discovery: o.instancer != nil,
		APIs:      slices.Clone(o.apis),
	}
	if o.instancer != nil {
		c.dep.Balance = o.balance.String()
	}
	for _, rec := range o.recorders {
		rec(c.dep)
	}
	return c, nil
}

// Name returns the dependency's name.
func (c *Client) Name() string { return c.name }

// HTTP returns the *http.Client that calls the dependency. Address requests to
// http://<name>/path to let discovery choose the instance.
func (c *Client) HTTP() *http.Client { return c.http }

// Dependency returns what the client records about its dependency.
func (c *Client) Dependency() Dependency { return c.dep }

// URL returns http://<name><path>, the URL of path on the dependency.
func (c *Client) URL(path string) *url.URL {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return &url.URL{Scheme: "http", Host: c.name, Path: path}
}

// Endpoint returns a go-kit client endpoint for method and path on the dependency, over
// kithttp.NewClient with [Client.HTTP], so it has the client's discovery, balancing,
// resilience, tracing and metrics (add no go-kit retry: the policy retries). enc and
// dec are go-kit's request encoder and response decoder (kithttp.EncodeJSONRequest, or
// [DecodeJSONResponse]).
func (c *Client) Endpoint(method, path string, enc kithttp.EncodeRequestFunc, dec kithttp.DecodeResponseFunc, opts ...kithttp.ClientOption) endpoint.Endpoint {
	opts = append([]kithttp.ClientOption{kithttp.SetClient(c.http)}, opts...)
	return kithttp.NewClient(method, c.URL(path), enc, dec, opts...).Endpoint()
}

// Close stops following the instancer and closes the idle connections of the
// transport the client owns. Requests made after Close fail or go out on new
// connections. Close is idempotent and returns nil.
func (c *Client) Close() error {
	c.closeOne.Do(func() {
		if c.bal != nil {
			c.bal.close()
		}
		if c.owned != nil {
			c.owned.CloseIdleConnections()
		}
	})
	return nil
}

// requestIDTransport sets X-Request-ID from the request's context when the request has
// none, so the id of the request being served follows the calls it makes.
type requestIDTransport struct{ next http.RoundTripper }

func (t requestIDTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	id := RequestIDFrom(r.Context())
	if id == "" || r.Header.Get(RequestIDHeader) != "" {
		return t.next.RoundTrip(r)
	}
	r2 := r.WithContext(r.Context()) // a RoundTripper must not change the caller's request
	r2.Header = r.Header.Clone()
	if r2.Header == nil {
		r2.Header = http.Header{}
	}
	r2.Header.Set(RequestIDHeader, id)
	return t.next.RoundTrip(r2)
}

// Dependency describes an outbound dependency of the service, for the catalog and the
// compliance check (a dependency needs a breaker and a timeout).
type Dependency struct {
	// Name is the dependency's name: the catalog component called.
	Name string `json:"name"`
	// Protocol is "http" or "grpc".
	Protocol string `json:"protocol"`
	// Paved is true when calls go through a Paved client (tracing, metrics, request
	// ids).
	Paved bool `json:"paved"`
	// Breaker is true when calls run under a circuit breaker.
	Breaker bool `json:"breaker"`
	// Timeout is true when calls are bounded in time.
	Timeout bool `json:"timeout"`
	// Discovery is true when instances come from a discovery instancer.
	Discovery bool `json:"discovery"`
	// Balance is the load-balancing rule with discovery ("round_robin",
	// "power_of_two"), empty without.
	Balance string `json:"balance,omitempty"`
	// APIs names the dependency's APIs the client calls ([WithAPI]); empty when the
	// client did not name them.
	APIs []string `json:"apis,omitempty"`
}

// Dependencies collects the dependencies recorded by clients ([WithRecorder] with
// [Dependencies.Record]). It is safe for concurrent use; the zero value is empty and
// ready to use.
type Dependencies struct {
	// mu guards m.
	mu sync.Mutex
	m  map[string]Dependency
}

// Record adds d, replacing an earlier record with the same Name and Protocol but
// keeping the APIs the earlier one named (two clients of one dependency may call two of
// its APIs).
func (s *Dependencies) Record(d Dependency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]Dependency{}
	}
	key := d.Name + "\x00" + d.Protocol // sorts by name, then protocol
	apis := slices.Clone(d.APIs)
	for _, a := range s.m[key].APIs {
		if !slices.Contains(apis, a) {
			apis = append(apis, a)
		}
	}
	slices.Sort(apis)
	d.APIs = apis
	s.m[key] = d
}

// List returns the recorded dependencies sorted by name, then protocol.
func (s *Dependencies) List() []Dependency {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The keys sort as the list must; sorting them, not the structs, spares every
	// binary a generic sort instantiated for Dependency (12 KB, bench/footprint).
	out := make([]Dependency, 0, len(s.m))
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		out = append(out, s.m[k])
	}
	return out
}

// DecodeJSONResponse returns a go-kit DecodeResponseFunc that decodes a 2xx answer's
// JSON body into a new T (unknown fields are ignored: a dependency may add fields).
// Any other status becomes a *[ResponseError] carrying the status and, when the answer
// is problem+json, its problem; resilience's default classifier counts 5xx and 429 as
// failures through its StatusCode method.
func DecodeJSONResponse[T any]() kithttp.DecodeResponseFunc {
	return func(_ context.Context, resp *http.Response) (any, error) {
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, newResponseError(resp)
		}
		var v T
		if err := jsonDecodeLimited(resp, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
}
