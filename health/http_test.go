package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/health"
)

// newTestRegistry has one check of each flavour: a passing liveness check, a failing
// critical dependency, a failing non-critical one, a passing readiness check and a
// passing startup check.
func newTestRegistry(t *testing.T, opts health.Options) *health.Registry {
	t.Helper()
	reg, err := health.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	fail := func(msg string) func(context.Context) error {
		return func(context.Context) error { return errors.New(msg) }
	}
	must(t, reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok}))
	must(t, reg.Register(health.Check{Name: "db", Dependency: "postgres", Check: fail("dial tcp 10.0.0.7:5432: connection refused")}))
	must(t, reg.Register(health.Check{Name: "cache", Dependency: "redis", NonCritical: true, Check: fail("redis timeout")}))
	must(t, reg.Register(health.Check{Name: "queue", Check: ok}))
	must(t, reg.Register(health.Check{Name: "migrations", Kinds: health.Startup, Check: ok}))
	reg.MarkStarted()
	return reg
}

func get(t *testing.T, url, accept string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestHTTPEndpoints(t *testing.T) {
	reg := newTestRegistry(t, health.Options{})
	mux := http.NewServeMux()
	reg.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	const text, hjson, problem = "text/plain; charset=utf-8", "application/health+json", "application/problem+json"
	tests := []struct {
		path, accept string
		wantCode     int
		wantType     string
		want         []string // lines or fragments the body must contain
		notWant      []string
	}{
		{"/livez", "", 200, text, []string{"ok\n"}, []string{"db"}},
		{"/livez?verbose", "", 200, text, []string{"[+]loop ok (", "livez check passed"}, []string{"started", "db"}},
		{"/livez?verbose=1", "", 200, text, []string{"[+]loop ok"}, nil},
		{"/livez?verbose=false", "", 200, text, []string{"ok\n"}, []string{"[+]"}},
		{"/readyz", "", 503, text, []string{"[-]db failed: reason withheld (", "[!]cache warn: reason withheld (", "[+]queue ok (", "readyz check failed"}, []string{"connection refused", "loop", "migrations"}},
		{"/readyz?verbose", "", 503, text, []string{"[+]started ok\n", "[+]shutdown ok\n", "[-]db failed"}, nil},
		{"/readyz?exclude=db", "", 200, text, []string{"ok\n"}, nil},
		{"/readyz?exclude=db&verbose", "", 200, text, []string{"[+]db excluded: ok", "[!]cache warn", "readyz check passed"}, nil},
		{"/readyz?exclude=db&exclude=cache&verbose", "", 200, text, []string{"[+]db excluded: ok", "[+]cache excluded: ok"}, nil},
		{"/readyz?exclude=db,cache&verbose", "", 200, text, []string{"[+]cache excluded: ok"}, nil},
		{"/readyz?exclude=nope", "", 400, problem, []string{`exclude: health: unknown check \"nope\" in the readiness set; registered: cache, db, queue, shutdown, started`}, nil},
		{"/readyz?exclude=shutdown", "", 400, problem, []string{"cannot be excluded"}, nil},
		{"/readyz?exclude=loop", "", 400, problem, []string{"unknown check"}, nil},
		{"/readyz/db", "", 503, text, []string{"[-]db failed: reason withheld", "readyz/db check failed"}, nil},
		{"/readyz/queue", "", 200, text, []string{"ok\n"}, nil},
		{"/readyz/queue?verbose", "", 200, text, []string{"[+]queue ok", "readyz/queue check passed"}, nil},
		{"/readyz/cache?verbose", "", 200, text, []string{"[!]cache warn", "readyz/cache check passed"}, nil},
		{"/readyz/started", "", 200, text, []string{"ok\n"}, nil},
		{"/readyz/loop", "", 404, problem, []string{`unknown check \"loop\" in the readiness set`}, nil},
		{"/livez/loop", "", 200, text, []string{"ok\n"}, nil},
		{"/livez/db", "", 404, problem, []string{"registered: loop"}, nil},
		{"/startupz", "", 200, text, []string{"ok\n"}, nil},
		{"/startupz?verbose", "", 200, text, []string{"[+]migrations ok", "[+]started ok", "startupz check passed"}, []string{"db"}},
		{"/healthz?verbose", "", 503, text, []string{"[+]loop ok", "[-]db failed", "[+]migrations ok", "healthz check failed"}, nil},
		{"/healthz?exclude=db", "", 200, text, []string{"ok\n"}, nil},
		{"/readyz/", "", 503, text, []string{"readyz check failed"}, nil},
		{"/readyz/db/x", "", 404, problem, []string{"no health endpoint"}, nil},
		{"/readyz?format=json", "", 503, hjson, []string{`"status":"fail"`}, nil},
		{"/readyz?format=yaml", "", 400, problem, []string{`format \"yaml\" is not supported; want json or text`}, nil},
		{"/readyz?format=text", "application/json", 503, text, []string{"[-]db failed"}, nil},
		{"/readyz", "application/health+json", 503, hjson, []string{`"db:responseTime"`}, nil},
		{"/livez", "application/json", 200, hjson, []string{`"status":"pass"`}, nil},
		{"/readyz?exclude=db", "application/json, */*;q=0.5", 200, hjson, []string{`"status":"warn"`}, []string{`"db:responseTime"`}},
		{"/livez", "text/html,*/*", 200, text, []string{"ok\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			code, h, body := get(t, srv.URL+tt.path, tt.accept)
			if code != tt.wantCode {
				t.Errorf("status: got %d, want %d\n%s", code, tt.wantCode, body)
			}
			if got := h.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if got := h.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want %q", got, "no-store")
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body: got\n%s\nwant it to contain %q", body, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body: got\n%s\nwant it not to contain %q", body, w)
				}
			}
		})
	}
}

func TestHTTPMethodAndPathErrors(t *testing.T) {
	reg := newTestRegistry(t, health.Options{})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	err = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 405 || p.Status != 405 || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(p.Detail, "use GET or HEAD") {
		t.Errorf("got %d %+v Allow=%q, want 405 problem naming GET or HEAD", resp.StatusCode, p, resp.Header.Get("Allow"))
	}

	code, _, body := get(t, srv.URL+"/metrics", "")
	if code != 404 || !strings.Contains(body, "want /livez, /readyz, /startupz or /healthz") {
		t.Errorf("got %d %s, want 404 naming the valid paths", code, body)
	}

	resp, err = http.Head(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || len(b) != 0 {
		t.Errorf("HEAD: got %d with %d bytes, want 503 with none", resp.StatusCode, len(b))
	}
}

func TestHTTPShowDetails(t *testing.T) {
	reg := newTestRegistry(t, health.Options{ShowDetails: true})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	_, _, body := get(t, srv.URL+"/readyz", "")
	if !strings.Contains(body, "[-]db failed: dial tcp 10.0.0.7:5432: connection refused") {
		t.Errorf("got\n%s\nwant the error detail", body)
	}
}

// TestHealthJSONShape validates the JSON answer against the shape of the IETF draft
// "Health Check Response Format for HTTP APIs" (draft-inadarei-api-health-check-06).
func TestHealthJSONShape(t *testing.T) {
	reg := newTestRegistry(t, health.Options{ServiceID: "orders-7f9c", Version: "1.4.2"})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	for _, tt := range []struct {
		path       string
		wantCode   int
		wantStatus string
		wantChecks map[string]string // key -> status
	}{
		{"/readyz", 503, "fail", map[string]string{"started:responseTime": "pass", "shutdown:responseTime": "pass", "db:responseTime": "fail", "cache:responseTime": "warn", "queue:responseTime": "pass"}},
		{"/readyz?exclude=db", 200, "warn", map[string]string{"started:responseTime": "pass", "shutdown:responseTime": "pass", "cache:responseTime": "warn", "queue:responseTime": "pass"}},
		{"/livez", 200, "pass", map[string]string{"loop:responseTime": "pass"}},
	} {
		code, h, body := get(t, srv.URL+tt.path, "application/health+json")
		if code != tt.wantCode || h.Get("Content-Type") != "application/health+json" {
			t.Errorf("%s: got %d %q, want %d application/health+json", tt.path, code, h.Get("Content-Type"), tt.wantCode)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", tt.path, err, body)
		}
		allowedTop := map[string]bool{"status": true, "version": true, "releaseId": true, "notes": true, "output": true, "checks": true, "links": true, "serviceId": true, "description": true}
		for k := range doc {
			if !allowedTop[k] {
				t.Errorf("%s: top-level member %q is not in the draft", tt.path, k)
			}
		}
		if doc["status"] != tt.wantStatus || doc["serviceId"] != "orders-7f9c" || doc["version"] != "1.4.2" {
			t.Errorf("%s: got status=%v serviceId=%v version=%v, want %s orders-7f9c 1.4.2", tt.path, doc["status"], doc["serviceId"], doc["version"], tt.wantStatus)
		}
		if tt.wantStatus == "fail" {
			if out, _ := doc["output"].(string); out == "" || strings.Contains(out, "connection refused") {
				t.Errorf("%s: output: got %q, want a withheld reason", tt.path, out)
			}
		}
		checks, okMap := doc["checks"].(map[string]any)
		if !okMap || len(checks) != len(tt.wantChecks) {
			t.Fatalf("%s: checks: got %v, want %d keys", tt.path, doc["checks"], len(tt.wantChecks))
		}
		for key, wantSt := range tt.wantChecks {
			arr, okArr := checks[key].([]any)
			if !okArr || len(arr) != 1 {
				t.Fatalf("%s: checks[%q]: got %v, want a one-element array", tt.path, key, checks[key])
			}
			c := arr[0].(map[string]any)
			allowed := map[string]bool{"componentId": true, "componentType": true, "observedValue": true, "observedUnit": true, "status": true, "affectedEndpoints": true, "time": true, "output": true, "links": true}
			for k := range c {
				if !allowed[k] {
					t.Errorf("%s: checks[%q] member %q is not in the draft", tt.path, key, k)
				}
			}
			if c["status"] != wantSt {
				t.Errorf("%s: checks[%q].status: got %v, want %s", tt.path, key, c["status"], wantSt)
			}
			switch ct := c["componentType"]; ct {
			case "component", "datastore", "system":
			default:
				t.Errorf("%s: checks[%q].componentType: got %v, want component, datastore or system", tt.path, key, ct)
			}
			if _, isNum := c["observedValue"].(float64); !isNum || c["observedUnit"] != "ms" {
				t.Errorf("%s: checks[%q]: got observedValue=%v unit=%v, want a number in ms", tt.path, key, c["observedValue"], c["observedUnit"])
			}
			if ts, has := c["time"]; has {
				if _, err := time.Parse(time.RFC3339Nano, ts.(string)); err != nil {
					t.Errorf("%s: checks[%q].time: %v", tt.path, key, err)
				}
			} else if !strings.HasPrefix(key, "started") && !strings.HasPrefix(key, "shutdown") {
				t.Errorf("%s: checks[%q] has no time", tt.path, key)
			}
			out, hasOut := c["output"]
			if wantSt == "pass" && hasOut {
				t.Errorf("%s: checks[%q].output: got %v, want none for pass", tt.path, key, out)
			}
			if wantSt != "pass" && (out != "reason withheld") {
				t.Errorf("%s: checks[%q].output: got %v, want %q", tt.path, key, out, "reason withheld")
			}
		}
		if arr, _ := checks["db:responseTime"].([]any); len(arr) == 1 {
			c := arr[0].(map[string]any)
			if c["componentId"] != "postgres" || c["componentType"] != "system" {
				t.Errorf("db: got componentId=%v componentType=%v, want postgres system", c["componentId"], c["componentType"])
			}
		}
	}
}

func TestReadinessGates(t *testing.T) {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	must(t, reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok}))
	must(t, reg.Register(health.Check{Name: "db", Kinds: health.Readiness | health.Startup, Check: ok}))
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	type want struct{ live, ready, startup int }
	step := func(name string, w want, wantReason string) {
		t.Helper()
		for path, wc := range map[string]int{"/livez": w.live, "/readyz": w.ready, "/startupz": w.startup} {
			code, _, body := get(t, srv.URL+path, "")
			if code != wc {
				t.Errorf("%s %s: got %d, want %d", name, path, code, wc)
			}
			if wc == 503 && !strings.Contains(body, wantReason) {
				t.Errorf("%s %s: got\n%s\nwant it to say %q", name, path, body, wantReason)
			}
		}
	}
	step("starting", want{200, 503, 503}, "[-]started failed: not started yet")
	reg.MarkStarted()
	step("started", want{200, 200, 200}, "")
	reg.Shutdown()
	step("shutdown", want{200, 503, 503}, "[-]shutdown failed: shutting down")
	reg.MarkStarted() // a later update does not lift the shutdown
	step("shutdown after update", want{200, 503, 503}, "[-]shutdown failed: shutting down")
	reg.Resume()
	step("resumed", want{200, 200, 200}, "")
}
