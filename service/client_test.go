package service_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
)

// TestClientThroughStaticDiscovery: a client built with Service.Client finds its
// dependency in DISCOVERY_STATIC, spreads calls over the instances, and shows as a
// dependency built through Paved with a breaker and a timeout.
func TestClientThroughStaticDiscovery(t *testing.T) {
	hits := map[string]int{}
	newBackend := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[name]++ // the test's requests are sequential
			fmt.Fprint(w, name)
		}))
	}
	a, b := newBackend("a"), newBackend("b")
	defer a.Close()
	defer b.Close()
	s := newTestService(t, map[string]string{
		"DISCOVERY_STATIC": "inventory=" + strings.TrimPrefix(a.URL, "http://") + "," + strings.TrimPrefix(b.URL, "http://"),
	})
	c, err := s.Client("inventory", resilience.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	for range 10 {
		resp, err := c.HTTP().Get("http://inventory/items/1")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if hits["a"] == 0 || hits["b"] == 0 || hits["a"]+hits["b"] != 10 {
		t.Errorf("calls per instance: got %v, want 10 spread over both", hits)
	}
	f := s.Facts()
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	for _, id := range []string{"dependency-through-paved", "dependency-breaker", "dependency-timeout"} {
		if r, _ := rep.Result(id); r.Status != compliance.StatusPass {
			t.Errorf("%s: got %s (%s), want pass; facts %+v", id, r.Status, r.Message, f.Dependencies)
		}
	}
	_, body := get(t, "http://"+s.AdminAddr().String()+"/metrics")
	if !strings.Contains(body, `http_client_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",server_address="inventory",server_port="80"} 10`) {
		t.Errorf("/metrics lacks the client histogram:\n%s", grep(body, "http_client"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestRecordDependency: a dependency reached through another Paved binding (a broker
// under a policy from Service.Policy) counts as built through Paved once recorded, and
// not before.
func TestRecordDependency(t *testing.T) {
	s := newTestService(t, nil)
	p, err := s.Policy("nats", resilience.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	status := func() compliance.Status {
		r, _ := compliance.Evaluate(s.Facts(), compliance.DefaultRuleSet()).Result("dependency-through-paved")
		return r.Status
	}
	if got := status(); got != compliance.StatusFail {
		t.Errorf("policy only: dependency-through-paved %s, want fail", got)
	}
	s.RecordDependency(httptransport.Dependency{Name: "nats", Protocol: "nats", Paved: true, Breaker: p.HasBreaker(), Timeout: p.HasTimeout()})
	if got := status(); got != compliance.StatusPass {
		t.Errorf("recorded: dependency-through-paved %s, want pass; facts %+v", got, s.Facts().Dependencies)
	}
	_ = s.Close(context.Background())
}

func TestDiscoveryStaticMalformed(t *testing.T) {
	_, err := service.Load[service.Config](service.WithEnviron(map[string]string{"DISCOVERY_STATIC": "inventory"}))
	if err == nil || !strings.Contains(err.Error(), "DISCOVERY_STATIC") {
		t.Errorf("got %v, want a config error naming DISCOVERY_STATIC", err)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
