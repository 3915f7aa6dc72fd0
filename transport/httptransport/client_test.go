package httptransport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
)

// instanceServer is one instance of a test dependency: a real server on loopback that
// answers its own id.
type instanceServer struct {
	id   string
	srv  *httptest.Server
	hits atomic.Int64
}

func startInstance(t *testing.T, id string, h http.HandlerFunc) *instanceServer {
	t.Helper()
	in := &instanceServer{id: id}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		in.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, id)
	})
	stack, err := httptransport.Stack(mux, httptransport.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in.srv = httptest.NewServer(stack)
	t.Cleanup(in.srv.Close)
	return in
}

func (in *instanceServer) instance() discovery.Instance {
	return discovery.Instance{ID: in.id, Service: "inventory", Version: "1.0.0",
		Addresses: discovery.Addresses{HTTP: in.srv.Listener.Addr().String()}, Status: discovery.StatusPassing}
}

func newClient(t *testing.T, opts ...httptransport.ClientOption) *httptransport.Client {
	t.Helper()
	c, err := httptransport.NewClient("inventory", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func get(ctx context.Context, c *httptransport.Client, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://inventory"+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.HTTP().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestNewClientRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, dep string
		opts      []httptransport.ClientOption
		want      string
	}{
		{"empty name", "", nil, `got ""`},
		{"upper case", "Inventory", nil, `got "Inventory"`},
		{"host:port", "inventory:8080", nil, `got "inventory:8080"`},
		{"trailing dash", "inventory-", nil, "DNS label"},
		{"bad balance", "inventory", []httptransport.ClientOption{httptransport.WithBalance(7)}, "balance must be RoundRobin or PowerOfTwo, got Balance(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := httptransport.NewClient(tt.dep, tt.opts...)
			if err == nil {
				c.Close()
				t.Fatalf("got nil error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestClientRoundRobin(t *testing.T) {
	a, b, c := startInstance(t, "a", nil), startInstance(t, "b", nil), startInstance(t, "c", nil)
	in := static.NewInstancer([]discovery.Instance{a.instance(), b.instance(), c.instance()})
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in))
	for range 30 {
		if code, _, err := get(t.Context(), cl, "/items/1"); err != nil || code != 200 {
			t.Fatalf("got %d %v, want 200", code, err)
		}
	}
	for _, s := range []*instanceServer{a, b, c} {
		if n := s.hits.Load(); n != 10 {
			t.Errorf("instance %s: got %d requests, want 10", s.id, n)
		}
	}
}

// PowerOfTwo sends new requests to the instance with fewer in flight: with one instance
// stuck on a request, every later request goes to the other.
func TestClientPowerOfTwoAvoidsBusyInstance(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	slow := startInstance(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "slow")
	})
	fast := startInstance(t, "fast", nil)
	in := static.NewInstancer([]discovery.Instance{slow.instance(), fast.instance()})
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in), httptransport.WithBalance(httptransport.PowerOfTwo))

	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for range 20 {
		done := make(chan struct{})
		wg.Go(func() {
			defer close(done)
			if code, _, err := get(t.Context(), cl, "/"); err != nil || code != 200 {
				t.Errorf("got %d %v, want 200", code, err)
			}
		})
		select { // the request either completed at the fast one or is stuck at the slow one
		case <-done:
		case <-arrived:
		}
	}
	if n := slow.hits.Load(); n > 1 {
		t.Errorf("requests sent to the busy instance: got %d, want at most 1", n)
	}
	if n := fast.hits.Load(); n < 19 {
		t.Errorf("requests sent to the idle instance: got %d, want at least 19", n)
	}
}

func TestClientFollowsInstancer(t *testing.T) {
	a, b := startInstance(t, "a", nil), startInstance(t, "b", nil)
	var reg static.Registry
	ctx := t.Context()
	if err := reg.Register(ctx, a.instance()); err != nil {
		t.Fatal(err)
	}
	in := reg.Instancer("inventory")
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in))
	if _, body, err := get(ctx, cl, "/"); err != nil || body != "a" {
		t.Fatalf("got %q %v, want a", body, err)
	}
	if err := reg.Register(ctx, b.instance()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Deregister(ctx, a.instance()); err != nil {
		t.Fatal(err)
	}
	// The client learns of the change asynchronously; it must follow within a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body, err := get(ctx, cl, "/")
		if err == nil && body == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after deregistering a: got %q %v, want b", body, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 10 {
		if _, body, err := get(ctx, cl, "/"); err != nil || body != "b" {
			t.Fatalf("got %q %v, want b only", body, err)
		}
	}
}

func TestClientNoInstance(t *testing.T) {
	in := static.NewInstancer(nil)
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in))
	_, _, err := get(t.Context(), cl, "/")
	if !errors.Is(err, httptransport.ErrNoInstance) || !strings.Contains(err.Error(), `"inventory"`) {
		t.Errorf("got %v, want ErrNoInstance naming inventory", err)
	}
}

// Requests to other hosts than the dependency's name pass through untouched.
func TestClientOtherHostPassesThrough(t *testing.T) {
	other := startInstance(t, "other", nil)
	in := static.NewInstancer(nil)
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in))
	resp, err := cl.HTTP().Get(other.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "other" {
		t.Errorf("got %q, want other", b)
	}
}

// The request id and the trace context of the caller's context reach the dependency,
// the client span is a child of the caller's, and the call is measured by dependency
// name, never by instance address.
func TestClientPropagatesRequestIDTraceAndMetrics(t *testing.T) {
	var gotID, gotParent atomic.Value
	srv := startInstance(t, "a", func(w http.ResponseWriter, r *http.Request) {
		gotID.Store(r.Header.Get("X-Request-ID"))
		gotParent.Store(r.Header.Get("Traceparent"))
		io.WriteString(w, "ok")
	})
	in := static.NewInstancer([]discovery.Instance{srv.instance()})
	defer in.Stop()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	reg := prometheus.NewPedanticRegistry()
	cl := newClient(t, httptransport.WithInstancer(in), httptransport.WithTracerProvider(tp), httptransport.WithRegisterer(reg))

	ctx, parent := tp.Tracer("test").Start(t.Context(), "caller")
	ctx = httptransport.WithRequestID(ctx, "req-42")
	if code, _, err := get(ctx, cl, "/items/1"); err != nil || code != 200 {
		t.Fatalf("got %d %v, want 200", code, err)
	}
	parent.End()

	if id := gotID.Load(); id != "req-42" {
		t.Errorf("X-Request-ID at the dependency: got %q, want req-42", id)
	}
	tid := parent.SpanContext().TraceID().String()
	if tp, _ := gotParent.Load().(string); !strings.Contains(tp, tid) {
		t.Errorf("traceparent at the dependency: got %q, want trace %s", tp, tid)
	}
	var client sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			client = s
		}
	}
	if client == nil || client.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("client span: got %v, want a child of the caller's span", client)
	}
	if n := testutil.CollectAndCount(reg, "http_client_request_duration_seconds"); n != 1 {
		t.Errorf("client series: got %d, want 1", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
		}
	}
	if got := strings.Join(labels, ","); got != "error_type=,http_request_method=GET,http_response_status_code=200,server_address=inventory,server_port=80" {
		t.Errorf("client series labels: got %s, want error_type=,http_request_method=GET,http_response_status_code=200,server_address=inventory,server_port=80", got)
	}
}

// The caller's own X-Request-ID wins over the context's; the caller's request is left
// untouched.
func TestClientKeepsExplicitRequestID(t *testing.T) {
	var got atomic.Value
	srv := startInstance(t, "a", func(w http.ResponseWriter, r *http.Request) { got.Store(r.Header.Get("X-Request-ID")) })
	cl := newClient(t)
	tests := []struct{ ctxID, header, want string }{
		{"from-ctx", "", "from-ctx"},
		{"from-ctx", "explicit", "explicit"},
		{"", "", ""},
	}
	for _, tt := range tests {
		ctx := t.Context()
		if tt.ctxID != "" {
			ctx = httptransport.WithRequestID(ctx, tt.ctxID)
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.srv.URL, nil)
		if tt.header != "" {
			req.Header.Set("X-Request-ID", tt.header)
		}
		resp, err := cl.HTTP().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if g := got.Load().(string); g != tt.want && !(tt.want == "" && g != "") {
			t.Errorf("ctx %q header %q: got %q, want %q", tt.ctxID, tt.header, g, tt.want)
		}
		if h := req.Header.Get("X-Request-ID"); h != tt.header {
			t.Errorf("caller's request header changed: got %q, want %q", h, tt.header)
		}
	}
}

// The two-service test: a client finds two instances through a static instancer; one
// is killed mid-traffic and every call still succeeds, as the retry policy promises
// (each retry picks an instance again, and the dead one is passed over).
func TestClientFailoverWhenInstanceKilled(t *testing.T) {
	a, b := startInstance(t, "a", nil), startInstance(t, "b", nil)
	in := static.NewInstancer([]discovery.Instance{a.instance(), b.instance()})
	defer in.Stop()
	for _, bal := range []httptransport.Balance{httptransport.RoundRobin, httptransport.PowerOfTwo} {
		t.Run(bal.String(), func(t *testing.T) {
			policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{
				Retry: resilience.RetryConfig{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
			})
			if err != nil {
				t.Fatal(err)
			}
			cl := newClient(t, httptransport.WithInstancer(in), httptransport.WithPolicy(policy), httptransport.WithBalance(bal))
			var failed, total atomic.Int64
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						total.Add(1)
						if code, body, err := get(t.Context(), cl, "/"); err != nil || code != 200 {
							failed.Add(1)
							t.Errorf("got %d %q %v, want 200", code, body, err)
						}
					}
				})
			}
			for total.Load() < 200 {
				time.Sleep(time.Millisecond)
			}
			if bal == httptransport.RoundRobin {
				a.srv.Close() // kill one instance mid-traffic (the first subtest kills a)
			}
			before := total.Load()
			for total.Load() < before+400 {
				time.Sleep(time.Millisecond)
			}
			close(stop)
			wg.Wait()
			if n := failed.Load(); n != 0 {
				t.Errorf("failed calls: got %d of %d, want 0", n, total.Load())
			}
			// After the kill, a survivor serves everything.
			bHits := b.hits.Load()
			for range 20 {
				if _, body, err := get(t.Context(), cl, "/"); err != nil || body != "b" {
					t.Fatalf("got %q %v, want b", body, err)
				}
			}
			if n := b.hits.Load() - bHits; n != 20 {
				t.Errorf("requests served by b: got %d, want 20", n)
			}
		})
	}
}

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func TestClientEndpoint(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			httptransport.WriteError(w, r, nil, httptransport.NotFound("no item missing"))
			return
		}
		fmt.Fprintf(w, `{"id":%q,"name":"widget","extra":1}`, r.PathValue("id"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	in := static.NewInstancer([]discovery.Instance{{ID: "a", Service: "inventory", Version: "1",
		Addresses: discovery.Addresses{HTTP: srv.Listener.Addr().String()}, Status: discovery.StatusPassing}})
	defer in.Stop()
	cl := newClient(t, httptransport.WithInstancer(in))
	enc := func(_ context.Context, r *http.Request, req any) error {
		r.URL.Path += req.(string)
		return nil
	}
	ep := cl.Endpoint("GET", "/items/", enc, httptransport.DecodeJSONResponse[item]())

	got, err := ep(t.Context(), "7")
	if err != nil {
		t.Fatal(err)
	}
	if want := (item{ID: "7", Name: "widget"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	_, err = ep(t.Context(), "missing")
	var re *httptransport.ResponseError
	if !errors.As(err, &re) || re.StatusCode() != 404 || re.Problem == nil || re.Problem.Detail != "no item missing" {
		t.Errorf("got %v, want a 404 ResponseError with the problem's detail", err)
	}
	if resilience.DefaultClassifier(err) != resilience.Success {
		t.Errorf("classifier: got %v, want success (a 404 is the dependency working)", resilience.DefaultClassifier(err))
	}
	var _ kithttp.DecodeResponseFunc = httptransport.DecodeJSONResponse[item]()
}

func TestClientRecordsDependency(t *testing.T) {
	in := static.NewInstancer(nil)
	defer in.Stop()
	policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	noBreaker, err := resilience.NewPolicy("billing", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{Disabled: true}, Timeout: -1, AttemptTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	var deps httptransport.Dependencies
	c1, err := httptransport.NewClient("inventory", httptransport.WithInstancer(in), httptransport.WithPolicy(policy),
		httptransport.WithBalance(httptransport.PowerOfTwo), httptransport.WithRecorder(deps.Record))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := httptransport.NewClient("billing", httptransport.WithPolicy(noBreaker), httptransport.WithRecorder(deps.Record))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	got := deps.List()
	want := []httptransport.Dependency{
		{Name: "billing", Protocol: "http", Paved: true},
		{Name: "inventory", Protocol: "http", Paved: true, Breaker: true, Timeout: true, Discovery: true, Balance: "power_of_two"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// WithAPI's names are recorded with the dependency, merged over clients of the same
// dependency; a bad name fails NewClient.
func TestClientRecordsAPIs(t *testing.T) {
	var deps httptransport.Dependencies
	for _, api := range []string{"inventory-http-v1", "inventory-admin-v1"} {
		c, err := httptransport.NewClient("inventory", httptransport.WithAPI(api), httptransport.WithRecorder(deps.Record))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if got := deps.List(); len(got) != 1 || !slices.Equal(got[0].APIs, []string{"inventory-admin-v1", "inventory-http-v1"}) {
		t.Errorf("got %+v, want both APIs of inventory", got)
	}
	_, err := httptransport.NewClient("inventory", httptransport.WithAPI("inventory http"))
	if err == nil || !strings.Contains(err.Error(), `client "inventory": WithAPI: API name must be`) {
		t.Errorf("got %v, want the bad name refused", err)
	}
}

// WithPropagator chooses how the context is written into requests: with baggage alone
// the dependency gets no traceparent.
func TestClientWithPropagator(t *testing.T) {
	var gotParent, gotBaggage atomic.Value
	srv := startInstance(t, "a", func(w http.ResponseWriter, r *http.Request) {
		gotParent.Store(r.Header.Get("Traceparent"))
		gotBaggage.Store(r.Header.Get("Baggage"))
		io.WriteString(w, "ok")
	})
	in := static.NewInstancer([]discovery.Instance{srv.instance()})
	defer in.Stop()
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	cl := newClient(t, httptransport.WithInstancer(in), httptransport.WithTracerProvider(tp), httptransport.WithPropagator(propagation.Baggage{}))

	ctx, parent := tp.Tracer("test").Start(t.Context(), "caller")
	m, _ := baggage.NewMember("tenant", "acme")
	b, _ := baggage.New(m)
	ctx = baggage.ContextWithBaggage(ctx, b)
	if code, _, err := get(ctx, cl, "/items/1"); err != nil || code != 200 {
		t.Fatalf("got %d %v, want 200", code, err)
	}
	parent.End()
	if got := gotParent.Load(); got != "" {
		t.Errorf("traceparent with a baggage-only propagator: got %q, want none", got)
	}
	if got := gotBaggage.Load(); got != "tenant=acme" {
		t.Errorf("baggage: got %q, want tenant=acme", got)
	}
}
