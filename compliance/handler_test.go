package compliance_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paved-road/paved/compliance"
)

// reportSource is what a service keeps: the latest report, absent until evaluated.
type reportSource struct {
	p atomic.Pointer[compliance.Report]
}

func (s *reportSource) current() (compliance.Report, bool) {
	r := s.p.Load()
	if r == nil {
		return compliance.Report{}, false
	}
	return *r, true
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	return do(t, http.MethodGet, url, header)
}

func do(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func newServer(t *testing.T, src *reportSource) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/compliance", compliance.NewHandler(src.current))
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	t.Cleanup(func() {
		srv.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return srv
}

func TestHandlerNegotiation(t *testing.T) {
	src := &reportSource{}
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	src.p.Store(&rep)
	srv := newServer(t, src)

	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
	tests := []struct {
		name   string
		query  string
		accept string
		want   string // json, text, or a status code for an error
	}{
		{"no Accept", "", "", "json"},
		{"json", "", "application/json", "json"},
		{"curl", "", "*/*", "json"},
		{"text", "", "text/plain", "text"},
		{"text any", "", "text/*", "text"},
		{"browser", "", browser, "text"},
		{"text preferred by q", "", "application/json;q=0.5, text/plain", "text"},
		{"json preferred by q", "", "application/json, text/plain;q=0.9", "json"},
		{"json refused", "", "application/json;q=0, */*", "text"},
		{"invalid q never selects", "", "text/plain;q=abc, application/json;q=0.1", "json"},
		{"malformed ranges ignored", "", "garbage, /, text/plain", "text"},
		{"only malformed", "", "garbage", "json"},
		{"nothing acceptable", "", "application/xml", "406"},
		{"query text wins", "?format=text", "application/json", "text"},
		{"query json wins", "?format=json", browser, "json"},
		{"bad query", "?format=yaml", "", "400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.accept != "" {
				h["Accept"] = tc.accept
			}
			resp, body := get(t, srv.URL+"/compliance"+tc.query, h)
			ct := resp.Header.Get("Content-Type")
			switch tc.want {
			case "json":
				if resp.StatusCode != 200 || ct != compliance.ContentTypeJSON {
					t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, ct, compliance.ContentTypeJSON)
				}
				var back compliance.Report
				if err := json.Unmarshal([]byte(body), &back); err != nil {
					t.Fatalf("body: got %v, want a report", err)
				}
				if !back.Equal(rep) {
					t.Errorf("decoded report: got %+v, want %+v", back, rep)
				}
			case "text":
				if resp.StatusCode != 200 || ct != compliance.ContentTypeText {
					t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, ct, compliance.ContentTypeText)
				}
				if !strings.HasPrefix(body, rep.Summary()+"\n") || !strings.Contains(body, `dependency "inventory" has no circuit breaker`) {
					t.Errorf("text body: got %q, want the summary and the failure", body)
				}
			default:
				if got := resp.Status[:3]; got != tc.want {
					t.Errorf("status: got %s, want %s", got, tc.want)
				}
				checkProblem(t, resp, body)
			}
			if tc.want == "json" || tc.want == "text" {
				if resp.Header.Get("ETag") == "" || resp.Header.Get("Vary") != "Accept" {
					t.Errorf("headers: got ETag %q Vary %q, want an ETag and Vary: Accept", resp.Header.Get("ETag"), resp.Header.Get("Vary"))
				}
			}
		})
	}
}

func checkProblem(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != compliance.ContentTypeProblem {
		t.Errorf("Content-Type: got %q, want %q", ct, compliance.ContentTypeProblem)
	}
	var p struct {
		Type, Title, Detail, Instance string
		Status                        int
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Status != resp.StatusCode || p.Title != http.StatusText(resp.StatusCode) || p.Detail == "" || p.Instance != "/compliance" {
		t.Errorf("problem: got %+v, want status %d with a title, detail and instance", p, resp.StatusCode)
	}
}

func TestHandlerBeforeEvaluation(t *testing.T) {
	src := &reportSource{}
	srv := newServer(t, src)
	resp, body := get(t, srv.URL+"/compliance", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("before evaluation: got %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	checkProblem(t, resp, body)
	if !strings.Contains(body, "not been evaluated yet") {
		t.Errorf("detail: got %s, want it to say not evaluated yet", body)
	}
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	src.p.Store(&rep)
	if resp, _ := get(t, srv.URL+"/compliance", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after evaluation: got %d, want 200", resp.StatusCode)
	}

	nilSrv := httptest.NewServer(compliance.NewHandler(nil))
	defer nilSrv.Close()
	if resp, _ := get(t, nilSrv.URL+"/compliance", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("nil report func: got %d, want 503", resp.StatusCode)
	}
}

func TestHandlerMethodsAndETag(t *testing.T) {
	src := &reportSource{}
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	src.p.Store(&rep)
	srv := newServer(t, src)

	resp, body := do(t, http.MethodPost, srv.URL+"/compliance", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: got %d Allow %q, want 405 Allow: GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
	checkProblem(t, resp, body)

	resp, body = do(t, http.MethodHead, srv.URL+"/compliance", nil)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Type") != compliance.ContentTypeJSON {
		t.Errorf("HEAD: got %d %q body %q, want 200 JSON without a body", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	first, _ := get(t, srv.URL+"/compliance", nil)
	etag := first.Header.Get("ETag")
	textResp, _ := get(t, srv.URL+"/compliance?format=text", nil)
	if textResp.Header.Get("ETag") == etag {
		t.Errorf("ETag: got the same for JSON and text, want one per form")
	}
	resp, body = get(t, srv.URL+"/compliance", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match with the current ETag: got %d, want 304", resp.StatusCode)
	}
	// The wiring changes: the report, and so the ETag, changes.
	f := goodFacts()
	f.PprofEnabled = true
	changed := compliance.Evaluate(f, compliance.DefaultRuleSet())
	src.p.Store(&changed)
	resp, body = get(t, srv.URL+"/compliance", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || !strings.Contains(body, "pprof is enabled in production") {
		t.Errorf("after a change: got %d ETag %q, want 200 with a new ETag and the new report", resp.StatusCode, resp.Header.Get("ETag"))
	}
}
