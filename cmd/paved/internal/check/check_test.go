package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeService is a fake of a Paved service's two ports, served on real loopback
// sockets by httptest: each field, when set, replaces one endpoint's behaviour.
type fakeService struct {
	report      *compliance.Report // nil: a compliant report
	readyz      int                // 0: 200
	notReadyFor int32              // /readyz answers 503 this many times first
	metrics     http.Handler       // nil: a real registry with build_info, OpenMetrics on
	config      map[string]string  // nil: settings with a redacted token
	publicMux   func(*http.ServeMux)
	infoStatus  int  // 0: 200
	noPublic    bool // /info reports no public address
}

// start serves the fake and returns its admin and public base URLs.
func (f fakeService) start(t testing.TB) (admin, public string) {
	t.Helper()
	pub := http.NewServeMux()
	pub.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hi") })
	if f.publicMux != nil {
		f.publicMux(pub)
	}
	ps := httptest.NewServer(pub)
	t.Cleanup(ps.Close)
	_, port, _ := net.SplitHostPort(ps.Listener.Addr().String())

	rep := compliance.Report{RuleSetVersion: "test", Score: 100, Results: []compliance.RuleResult{
		{ID: "owner-set", Title: "An owning team is named", Level: compliance.Required, Weight: 3, Status: compliance.StatusPass},
	}}
	if f.report != nil {
		rep = *f.report
	}
	metrics := f.metrics
	if metrics == nil {
		reg := telemetry.NewRegistry(telemetry.BuildInfo{Service: "fake", Version: "1.0.0"})
		metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	}
	config := f.config
	if config == nil {
		config = map[string]string{"SERVICE_ENV": "development", "CATALOG_TOKEN": "[REDACTED]", "DB_PASSWORD": ""}
	}
	adm := http.NewServeMux()
	adm.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		if f.infoStatus != 0 {
			w.WriteHeader(f.infoStatus)
			return
		}
		addrs := map[string]string{"http": net.JoinHostPort("::", port)}
		if f.noPublic {
			addrs = map[string]string{}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"name": "fake", "version": "1.0.0", "owner": "team-a", "environment": "development",
			"addresses": addrs,
		})
	})
	adm.Handle("/compliance", compliance.NewHandler(func() (compliance.Report, bool) { return rep, true }))
	var readyCalls atomic.Int32
	adm.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if readyCalls.Add(1) <= f.notReadyFor {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if f.readyz != 0 {
			w.WriteHeader(f.readyz)
		}
		fmt.Fprintln(w, "ok")
	})
	adm.Handle("GET /metrics", metrics)
	adm.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(config) })
	as := httptest.NewServer(adm)
	t.Cleanup(as.Close)
	return as.URL, ps.URL
}

func run(t *testing.T, f fakeService, opts check.Options) *check.Result {
	t.Helper()
	admin, _ := f.start(t)
	opts.AdminURL = admin
	res, err := check.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run: got %v, want a result", err)
	}
	return res
}

func finding(t *testing.T, res *check.Result, id string) check.Finding {
	t.Helper()
	for _, f := range res.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no finding %q in %+v", id, res.Findings)
	return check.Finding{}
}

// TestCompliantServicePasses: every probe passes against a well-behaved service, and
// the public address is derived from /info's "[::]:port" with the admin URL's host.
func TestCompliantServicePasses(t *testing.T) {
	res := run(t, fakeService{}, check.Options{})
	if !res.Passed {
		t.Fatalf("Passed: got false, want true; failures %+v", res.Failures())
	}
	var ids []string
	for _, f := range res.Findings {
		ids = append(ids, f.ID)
		if f.Status != check.StatusPass {
			t.Errorf("%s: got %v, want pass", f.ID, f.Status)
		}
	}
	if got, want := strings.Join(ids, ","), strings.Join(check.Probes(), ","); got != want {
		t.Errorf("findings: got %v, want Probes() %v", got, want)
	}
	if !strings.HasPrefix(res.PublicURL, "http://127.0.0.1:") {
		t.Errorf("PublicURL: got %q, want the admin host with the public port", res.PublicURL)
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "PASS: compliant") {
		t.Errorf("WriteText: got %q (%v), want a PASS verdict", text.String(), err)
	}
}

// TestEachProbeFails breaks one thing at a time and expects exactly that probe to fail,
// with a fix.
func TestEachProbeFails(t *testing.T) {
	notCompliant := compliance.Report{RuleSetVersion: "test", Score: 40, Results: []compliance.RuleResult{
		{ID: "owner-set", Title: "An owning team is named", Level: compliance.Required, Weight: 3, Status: compliance.StatusFail, Message: "owner is empty", Fix: "Set Info.Owner."},
		{ID: "runbook-link", Title: "A runbook is linked", Level: compliance.Recommended, Weight: 2, Status: compliance.StatusFail, Fix: "Set Links.Runbook."},
	}}
	tests := []struct {
		name string
		f    fakeService
		fail []string // findings that must fail
		in   string   // text the failures' messages must hold
	}{
		{"not compliant", fakeService{report: &notCompliant}, []string{"compliance", "compliance/owner-set"}, "owner-set"},
		{"not ready", fakeService{readyz: http.StatusServiceUnavailable}, []string{"readyz"}, "503"},
		{"metrics garbage", fakeService{metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "this is { not metrics")
		})}, []string{"metrics-text"}, "does not parse"},
		{"openmetrics without EOF", fakeService{metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.Header.Get("Accept"), "openmetrics") {
				w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
				fmt.Fprint(w, "# TYPE build_info gauge\nbuild_info 1\n")
				return
			}
			fmt.Fprint(w, "# TYPE build_info gauge\nbuild_info 1\n")
		})}, []string{"metrics-openmetrics"}, "# EOF"},
		{"no build_info", fakeService{metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "# TYPE up gauge\nup 1\n")
		})}, []string{"metrics-text"}, "build_info"},
		{"secret shown", fakeService{config: map[string]string{"DB_PASSWORD": "hunter2", "CATALOG_TOKEN": "[REDACTED]", "SERVICE_ENV": "production"}}, []string{"config-secrets"}, "DB_PASSWORD"},
		{"pprof public", fakeService{publicMux: func(m *http.ServeMux) { m.HandleFunc("/debug/pprof/", pprof.Index) }}, []string{"public-pprof"}, "debug/pprof"},
		{"admin endpoints public", fakeService{publicMux: func(m *http.ServeMux) {
			m.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "{}") })
		}}, []string{"public-admin-endpoints"}, "/config"},
		{"info broken", fakeService{infoStatus: http.StatusInternalServerError}, []string{"info"}, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.f, check.Options{})
			if res.Passed {
				t.Fatalf("Passed: got true, want false")
			}
			var ids, msgs []string
			for _, f := range res.Failures() {
				ids = append(ids, f.ID)
				msgs = append(msgs, f.Message)
				if f.Fix == "" {
					t.Errorf("%s: got no fix, want one", f.ID)
				}
			}
			if got, want := strings.Join(ids, ","), strings.Join(tt.fail, ","); got != want {
				t.Errorf("failed: got %v, want %v", got, want)
			}
			if all := strings.Join(msgs, "\n"); !strings.Contains(all, tt.in) {
				t.Errorf("messages: got %q, want mention of %q", all, tt.in)
			}
			if strings.Contains(strings.Join(msgs, ""), "hunter2") {
				t.Errorf("a secret's value reached the report")
			}
		})
	}
}

// TestRecommendedFailureWarns: a failed recommended rule is a warning, not a failure,
// unless --min-score asks for more.
func TestRecommendedFailureWarns(t *testing.T) {
	rep := compliance.Report{RuleSetVersion: "test", Score: 60, Results: []compliance.RuleResult{
		{ID: "owner-set", Level: compliance.Required, Weight: 3, Status: compliance.StatusPass},
		{ID: "runbook-link", Level: compliance.Recommended, Weight: 2, Status: compliance.StatusFail, Fix: "Set Links.Runbook."},
	}}
	res := run(t, fakeService{report: &rep}, check.Options{})
	if !res.Passed {
		t.Errorf("Passed: got false, want true (only a recommended rule failed): %+v", res.Failures())
	}
	if got := finding(t, res, "compliance/runbook-link"); got.Status != check.StatusWarn || got.Fix != "Set Links.Runbook." {
		t.Errorf("runbook-link: got %+v, want a warning with its fix", got)
	}
	res = run(t, fakeService{report: &rep}, check.Options{MinScore: 80})
	if got := finding(t, res, "min-score"); res.Passed || got.Status != check.StatusFail {
		t.Errorf("min-score 80 with score 60: got %+v (passed %v), want a failure", got, res.Passed)
	}
}

// TestExplicitPublicURL: --public-url wins over /info's address.
func TestExplicitPublicURL(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(pprof.Index))
	defer bad.Close()
	res := run(t, fakeService{}, check.Options{PublicURL: bad.URL})
	if res.PublicURL != bad.URL || finding(t, res, "public-pprof").Status != check.StatusFail {
		t.Errorf("got public %s, pprof %+v; want %s probed and failing", res.PublicURL, finding(t, res, "public-pprof"), bad.URL)
	}
}

// TestNoPublicAddress: a service without a public server skips the public probes and
// still passes; the skip says how to probe one anyway.
func TestNoPublicAddress(t *testing.T) {
	res := run(t, fakeService{noPublic: true}, check.Options{})
	for _, id := range []string{"public-pprof", "public-admin-endpoints"} {
		if got := finding(t, res, id); got.Status != check.StatusSkip || !strings.Contains(got.Message, "--public-url") {
			t.Errorf("%s: got %+v, want skip mentioning --public-url", id, got)
		}
	}
	if !res.Passed || res.PublicURL != "" {
		t.Errorf("got passed %v, public %q, want passed with no public URL", res.Passed, res.PublicURL)
	}
}

// TestUsageErrors: bad URLs and options, and an admin address nobody answers, are usage
// errors naming the field.
func TestUsageErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		opts check.Options
		want string
	}{
		{check.Options{AdminURL: "ftp://127.0.0.1:1"}, "scheme must be http or https"},
		{check.Options{AdminURL: "127.0.0.1:9090"}, "did you mean http://127.0.0.1:9090?"},
		{check.Options{AdminURL: "http://"}, "has no host"},
		{check.Options{AdminURL: "http://127.0.0.1:1", PublicURL: "nope"}, "--public-url"},
		{check.Options{AdminURL: "http://127.0.0.1:1", MinScore: 101}, "between 0 and 100"},
		{check.Options{AdminURL: closedURL}, "does not answer"},
	}
	for _, tt := range tests {
		_, err := check.Run(context.Background(), tt.opts)
		var ue *check.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want a UsageError mentioning %q", tt.opts, err, tt.want)
		}
	}
}

// TestHangingServiceIsBounded: a service that never answers costs the timeout, not
// forever.
func TestHangingServiceIsBounded(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	start := time.Now()
	_, err := check.Run(context.Background(), check.Options{AdminURL: hang.URL, Timeout: 300 * time.Millisecond})
	var ue *check.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "in time") {
		t.Errorf("got %v, want a UsageError saying it did not answer in time", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v, want about the 300ms timeout", d)
	}
}

// TestWaitForReadiness: with Wait, a service that turns ready during the wait passes;
// without it, the first 503 fails the probe.
func TestWaitForReadiness(t *testing.T) {
	res := run(t, fakeService{notReadyFor: 2}, check.Options{Wait: 5 * time.Second})
	if got := finding(t, res, "readyz"); got.Status != check.StatusPass {
		t.Errorf("readyz with wait: got %+v, want pass on the 3rd call", got)
	}
	res = run(t, fakeService{notReadyFor: 2}, check.Options{})
	if got := finding(t, res, "readyz"); got.Status != check.StatusFail {
		t.Errorf("readyz without wait: got %+v, want fail", got)
	}
}

// BenchmarkRun measures one whole check (info, compliance, readyz, two /metrics
// scrapes, config, three public probes) against a fake service on loopback.
func BenchmarkRun(b *testing.B) {
	admin, _ := fakeService{}.start(b)
	ctx := context.Background()
	for b.Loop() {
		res, err := check.Run(ctx, check.Options{AdminURL: admin})
		if err != nil || !res.Passed {
			b.Fatalf("got %v %v, want a passed check", res, err)
		}
	}
}
