package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paved-road/paved/internal/testenv"
)

// proc is a running catalog.
type proc struct {
	*testenv.Process
	api, admin string
}

// start runs the catalog binary with env; with wantReady it waits for the ready line.
func start(t *testing.T, wantReady bool, env ...string) *proc {
	t.Helper()
	bin := testenv.Build(t, ".")
	env = append([]string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s"}, env...)
	if !wantReady {
		return &proc{Process: testenv.StartNoWait(t, bin, env...)}
	}
	p := testenv.Start(t, bin, env...)
	return &proc{Process: p, api: "http://" + p.HTTPAddr, admin: "http://" + p.AdminAddr}
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func component(name, owner string) string {
	return fmt.Sprintf(`{"name":%q,"owner":%q,"type":"service","tier":2,"lifecycle":"production","links":{}}`, name, owner)
}

func instance(comp, id string) string {
	return fmt.Sprintf(`{"id":%q,"component":%q,"version":"1.0.0","addresses":{"http":"127.0.0.1:8080","admin":"127.0.0.1:9090"},"startedAt":%q,"ttlSeconds":60,"status":"passing"}`,
		id, comp, time.Now().UTC().Format(time.RFC3339))
}

// TestKill9DuringRegistrations: registrations stream in; the catalog is killed with
// SIGKILL; after a restart on the same data every acknowledged registration is there.
func TestKill9DuringRegistrations(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("# teams\nteam-a:tok-a-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A durability test, not a limits one: the writers may go as fast as they can.
	env := []string{"CATALOG_DATA_DIR=" + filepath.Join(dir, "data"), "CATALOG_TOKENS_FILE=" + tokens,
		"CATALOG_RATE_PER_CLIENT=0", "CATALOG_RATE_PER_BEARER=0"}
	p := start(t, true, env...)
	if code, body := do(t, "PUT", p.api+"/api/v1/components/orders", "tok-a-0123456789abcdef", component("orders", "team-a")); code/100 != 2 {
		t.Fatalf("PUT component: %d %s", code, body)
	}
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				code, _ := do(t, "PUT", p.api+"/api/v1/components/orders/instances/"+id, "tok-a-0123456789abcdef", instance("orders", id))
				if code/100 == 2 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else if code == 0 {
					return // connection refused: the catalog is gone
				} else {
					t.Errorf("PUT instance %s: %d", id, code)
					return
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	p.Wait(t, 10*time.Second)
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d registrations acknowledged before the kill", len(acked))
	}

	p2 := start(t, true, env...)
	code, body := do(t, "GET", p2.api+"/api/v1/components/orders/instances", "", "")
	if code != 200 {
		t.Fatalf("GET instances after restart: %d %s", code, body)
	}
	for _, id := range acked {
		if !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("acknowledged registration %s lost after kill -9", id)
		}
	}
	t.Logf("%d acknowledged registrations, all present after restart", len(acked))
}

func TestWritesNeedTokens(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	_ = os.WriteFile(tokens, []byte("team-a:tok-a-0123456789abcdef\nteam-b:tok-b-0123456789abcdef\n"), 0o600)
	p := start(t, true, "CATALOG_STORE=memory", "CATALOG_TOKENS_FILE="+tokens, "CATALOG_ADMIN_TOKEN=admin-canary-0123456789")
	tests := []struct {
		name, token string
		want        int
	}{
		{"no token", "", 401},
		{"wrong token", "nope", 401},
		{"owner", "tok-a-0123456789abcdef", 201},
		{"other team", "tok-b-0123456789abcdef", 403},
		{"admin", "admin-canary-0123456789", 200},
	}
	for _, tt := range tests {
		code, body := do(t, "PUT", p.api+"/api/v1/components/orders", tt.token, component("orders", "team-a"))
		if code != tt.want {
			t.Errorf("%s: got %d, want %d (%s)", tt.name, code, tt.want, body)
		}
	}
	if _, body := do(t, "GET", p.admin+"/config", "", ""); strings.Contains(body, "admin-canary-0123456789") {
		t.Errorf("/config shows the admin token:\n%s", body)
	}
	if strings.Contains(p.Output(), "admin-canary-0123456789") {
		t.Error("the log shows the admin token")
	}
}

func TestConfigErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "scorecards.json")
	if err := os.WriteFile(bad, []byte(`{"version": 1, "scorecards": [{"name": "x", "rules": [{"id": "runbok-link"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, false, "CATALOG_STORE=sqlite", "CATALOG_OPEN=true", "SERVICE_ENV=production", "CATALOG_TOKENS_FILE=/nonexistent/tokens",
		"CATALOG_SCORECARDS_FILE="+bad)
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Errorf("exit code: got %d, want 2", code)
	}
	for _, v := range []string{"CATALOG_STORE", "CATALOG_OPEN", "CATALOG_TOKENS_FILE", "CATALOG_SCORECARDS_FILE", `did you mean "runbook-link"`} {
		if !strings.Contains(p.Output(), v) {
			t.Errorf("output does not name %s:\n%s", v, p.Output())
		}
	}
}

// TestPortInUse: a catalog whose port is taken exits 1 with one log record naming the
// setting and the listen error; a store that cannot open is one record too.
func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	for _, tt := range []struct{ env, want string }{
		{"HTTP_ADDR=" + addr, "(HTTP_ADDR): listen tcp " + addr + ": bind: address already in use"},
		{"ADMIN_ADDR=" + addr, "(ADMIN_ADDR): listen tcp " + addr + ": bind: address already in use"},
	} {
		p := start(t, false, "CATALOG_STORE=memory", "CATALOG_OPEN=true", "LOG_FORMAT=json", tt.env)
		if code := p.Wait(t, 20*time.Second); code != 1 {
			t.Errorf("%s: exit code: got %d, want 1\n%s", tt.env, code, p.Output())
		}
		var found int
		for _, line := range strings.Split(p.Output(), "\n") {
			if !strings.Contains(line, "address already in use") {
				continue
			}
			var rec struct{ Level, Msg, Error string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level != "ERROR" || !strings.Contains(rec.Error, tt.want) {
				t.Errorf("%s: got %s, want an ERROR record with %q", tt.env, line, tt.want)
			}
			found++
		}
		if found != 1 {
			t.Errorf("%s: records with the listen error: got %d, want 1:\n%s", tt.env, found, p.Output())
		}
	}
}

func TestUIServed(t *testing.T) {
	p := start(t, true, "CATALOG_STORE=memory", "CATALOG_OPEN=true")
	code, body := do(t, "GET", p.api+"/", "", "")
	if code != 200 || !strings.Contains(body, "<html") {
		t.Errorf("GET /: got %d, want the UI", code)
	}
	if code, _ := do(t, "PUT", p.api+"/api/v1/components/orders", "", component("orders", "team-a")); code != 201 {
		t.Errorf("open mode write: got %d, want 201", code)
	}
	if !strings.Contains(p.Output(), "open mode") {
		t.Errorf("open mode not warned about in the log")
	}
}

// TestScorecardsFile: with CATALOG_SCORECARDS_FILE the API scores a tier 1 component's
// card by the platform team's weights and levels.
func TestScorecardsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorecards.json")
	if err := os.WriteFile(file, []byte(`{"version": 1, "scorecards": [{"name": "critical-services", "appliesTo": {"tiers": [2]},
		"rules": [{"id": "runbook-link", "level": "required", "weight": 10}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, true, "CATALOG_STORE=memory", "CATALOG_OPEN=true", "CATALOG_SCORECARDS_FILE="+file)
	if code, body := do(t, "PUT", p.api+"/api/v1/components/orders", "", component("orders", "team-a")); code != 201 {
		t.Fatalf("PUT component: got %d %s, want 201", code, body)
	}
	if code, body := do(t, "PUT", p.api+"/api/v1/components/orders/instances/i-1", "", instance("orders", "i-1")); code != 200 {
		t.Fatalf("PUT instance: got %d %s, want 200", code, body)
	}
	card := `{"instance":"i-1","ruleSetVersion":"2026.11","score":90,"passed":["owner-set"],"failed":[{"id":"runbook-link","level":"warning"}]}`
	if code, body := do(t, "PUT", p.api+"/api/v1/components/orders/scorecard", "", card); code != 204 {
		t.Fatalf("PUT scorecard: got %d %s, want 204", code, body)
	}
	code, body := do(t, "GET", p.api+"/api/v1/components/orders/scorecard", "", "")
	var sc struct {
		Score      int      `json:"score"`
		Scorecards []string `json:"scorecards"`
		Failing    []struct {
			ID    string `json:"id"`
			Level string `json:"level"`
		} `json:"failing"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &sc) != nil {
		t.Fatalf("GET scorecard: got %d %s", code, body)
	}
	// owner-set (weight 3) passes, runbook-link (weight 10 here) fails: 3*100/13.
	if sc.Score != 23 || len(sc.Scorecards) != 1 || len(sc.Failing) != 1 || sc.Failing[0].Level != "error" {
		t.Fatalf("got %+v, want score 23 under critical-services with runbook-link failing as an error", sc)
	}
}

// tokensFile writes a tokens file for team-a and returns its path.
func tokensFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("team-a:tok-a-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompliantInProduction: the catalog program in production settings (tokens file,
// bbolt store, a tracing collector, a real version) is compliant, score 100: it
// registers itself in its own store, which is what registration-configured asks of
// every service. Its instance is listed and, allowed by the address policy, published
// as a Prometheus target.
func TestCompliantInProduction(t *testing.T) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK) // an OTLP/HTTP collector that accepts every export
	}))
	defer collector.Close()
	p := start(t, true, "SERVICE_ENV=production", "SERVICE_VERSION=1.4.2", "CATALOG_TOKENS_FILE="+tokensFile(t),
		"CATALOG_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "CATALOG_ALLOWED_NETWORKS=10.0.0.0/8,127.0.0.0/8", "REGISTRY_TTL=3s")
	var rep struct {
		Score     int      `json:"score"`
		Compliant bool     `json:"compliant"`
		Failed    []string `json:"failed"`
		Results   []struct {
			ID, Status, Message string
		} `json:"results"`
	}
	var body string
	deadline := time.Now().Add(15 * time.Second)
	for {
		var code int
		code, body = do(t, "GET", p.admin+"/compliance", "", "")
		if code != 200 || json.Unmarshal([]byte(body), &rep) != nil {
			t.Fatalf("GET /compliance: got %d %s", code, body)
		}
		_, inst := do(t, "GET", p.api+"/api/v1/components/catalog/instances", "", "")
		if rep.Score == 100 && strings.Contains(inst, `"component":"catalog"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got score %d, failed %v, instances %s; want 100, compliant, the catalog registered:\n%s", rep.Score, rep.Failed, inst, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !rep.Compliant || len(rep.Failed) != 0 {
		t.Fatalf("got compliant %v, failed %v, want compliant with no failure", rep.Compliant, rep.Failed)
	}
	for _, r := range rep.Results {
		if r.ID == "registration-configured" && (r.Status != "pass" || !strings.Contains(r.Message, "catalog")) {
			t.Fatalf("registration-configured: got %s %q, want pass, registers with catalog", r.Status, r.Message)
		}
	}
	_, targets := do(t, "GET", p.api+"/api/v1/targets", "", "")
	if !strings.Contains(targets, `"targets":["`+p.AdminAddr+`"]`) || !strings.Contains(targets, `"component":"catalog"`) {
		t.Fatalf("got targets %s, want the catalog's own admin address %s", targets, p.AdminAddr)
	}
}

// TestConfigListsEveryBadEntry: a tokens file with several bad lines and a list of
// networks with several bad entries are reported in full at config load, each line and
// entry with what is wrong; exit 2.
func TestConfigListsEveryBadEntry(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("team-a:tok-a-0123456789abcdef\nteam-b\nteam-c:short\n\nTeam-D:tok-d-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, false, "CATALOG_STORE=memory", "CATALOG_TOKENS_FILE="+tokens,
		"CATALOG_ALLOWED_NETWORKS=10.0.0.0/8,10.0.0.1/8,banana,169.254.0.0/16")
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Fatalf("exit code: got %d, want 2\n%s", code, p.Output())
	}
	for _, want := range []string{"tokens line 2: want team:token", "tokens line 3: the token of team \"team-c\" must be at least 16",
		"tokens line 5: team \"Team-D\"", `CATALOG_ALLOWED_NETWORKS: "10.0.0.1/8": has host bits set: did you mean 10.0.0.0/8?`,
		`CATALOG_ALLOWED_NETWORKS: "banana": is not a CIDR`, `CATALOG_ALLOWED_NETWORKS: "169.254.0.0/16": is link-local`, "(6 problems)"} {
		if !strings.Contains(p.Output(), want) {
			t.Errorf("output does not contain %q:\n%s", want, p.Output())
		}
	}
}

// TestAddressPolicyByEnvironment: outside development the catalog refuses an instance
// whose admin address is loopback, naming the field; CATALOG_ALLOWED_NETWORKS listing
// 127.0.0.0/8 re-allows it. (Development allows loopback: the other tests register
// 127.0.0.1 addresses with the default SERVICE_ENV.)
func TestAddressPolicyByEnvironment(t *testing.T) {
	tokens := tokensFile(t)
	for _, tt := range []struct {
		env  []string
		want int
	}{
		{[]string{"SERVICE_ENV=staging"}, 400},
		{[]string{"SERVICE_ENV=staging", "CATALOG_ALLOWED_NETWORKS=10.0.0.0/8,127.0.0.0/8"}, 200},
	} {
		p := start(t, true, append([]string{"CATALOG_STORE=memory", "CATALOG_TOKENS_FILE=" + tokens}, tt.env...)...)
		if code, body := do(t, "PUT", p.api+"/api/v1/components/orders", "tok-a-0123456789abcdef", component("orders", "team-a")); code != 201 {
			t.Fatalf("PUT component: %d %s", code, body)
		}
		code, body := do(t, "PUT", p.api+"/api/v1/components/orders/instances/i-1", "tok-a-0123456789abcdef", instance("orders", "i-1"))
		if code != tt.want {
			t.Errorf("%v: got %d %s, want %d", tt.env, code, body, tt.want)
		}
		if tt.want == 400 && (!strings.Contains(body, `"field":"addresses.admin"`) || !strings.Contains(body, "address policy")) {
			t.Errorf("%v: got %s, want addresses.admin refused by the address policy", tt.env, body)
		}
		p.Stop(t)
	}
}
