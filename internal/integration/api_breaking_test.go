package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

// proc is a program of the repository running on loopback.
type proc struct {
	cmd         *exec.Cmd
	http, admin string // addresses from its "service ready" line
	api         string // "http://" + http
	exited      chan struct{}
}

// startProc runs bin with env and waits for its "service ready" log line. It is stopped
// (SIGINT, then killed after 10 s) when the test ends, unless stopped before.
func startProc(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s", "LOG_FORMAT=json"}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan [2]string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct {
				Msg   string `json:"msg"`
				HTTP  string `json:"http_addr"`
				Admin string `json:"admin_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "service ready" {
				ready <- [2]string{rec.HTTP, rec.Admin}
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
	}()
	t.Cleanup(p.stop)
	select {
	case a := <-ready:
		p.http, p.admin = a[0], a[1]
		p.api = "http://" + p.http
	case <-p.exited:
		t.Fatalf("%s exited before it was ready", filepath.Base(bin))
	case <-time.After(60 * time.Second):
		t.Fatalf("%s was not ready within 60 s", filepath.Base(bin))
	}
	return p
}

// stop interrupts the process and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
	}
}

// pavedAPICheck runs paved api check and returns its exit code and output.
func pavedAPICheck(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"api", "check"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("paved api check: %v", err)
	return 0, ""
}

// TestBreakingInventoryCaught runs the catalog, examples/inventory and examples/orders
// (which consumes inventory-http-v1) as processes. The catalog keeps inventory's
// contract and shows it; a next inventory whose contract drops POST /reservations
// fails paved api check in its pipeline (exit 1), and once it runs the catalog records
// the breaking change and fails api-compatible for inventory while orders consumes it.
func TestBreakingInventoryCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the catalog, two services and paved")
	}
	bins := t.TempDir()
	build := exec.Command("go", "build", "-o", bins+string(filepath.Separator), "./cmd/catalog", "./cmd/paved",
		"./examples/inventory", "./examples/orders", "./examples/inventory/testdata/noreservations")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin := func(name string) string { return filepath.Join(bins, name) }

	const token = "admin-token-0123456789abcdef"
	cat := startProc(t, bin("catalog"), "CATALOG_STORE=memory", "CATALOG_ADMIN_TOKEN="+token, "REGISTRY=none", "SERVICE_ENV=development")
	catURL := "http://" + cat.http
	register := []string{"CATALOG_URL=" + catURL, "CATALOG_TOKEN=" + token, "REGISTRY_TTL=3s"}
	inv1 := startProc(t, bin("inventory"), register...)
	startProc(t, bin("orders"), register...)

	const api = "inventory-http-v1"
	var sum catalog.APISummary
	until(t, "inventory's contract stored and orders consuming it", func() bool {
		return tryJSON(t, catURL+"/api/v1/apis/"+api, &sum) == "" && sum.VersionCount == 1 &&
			slices.ContainsFunc(sum.Consumers, func(c catalog.APIConsumer) bool { return c.Component == "orders" && c.Declared })
	})
	if !slices.Equal(sum.Providers, []string{"inventory"}) || sum.Latest.Version != "1.0.0" || sum.Breaking() {
		t.Fatalf("first version: got %+v, want inventory's 1.0.0, not breaking", sum)
	}
	// The API pages show it: the operations, the provider, the consumer.
	page := getText(t, catURL+"/apis/"+api)
	for _, want := range []string{"/reservations", "/items/{sku}", `href="/components/inventory"`, `href="/components/orders"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the API page lacks %q", want)
		}
	}
	if list := getText(t, catURL+"/apis"); !strings.Contains(list, `href="/apis/`+api+`"`) {
		t.Errorf("the APIs page does not link to %s", api)
	}

	// The pipeline of the next inventory: built, run without registering, checked.
	next := startProc(t, bin("noreservations"), "REGISTRY=none")
	code, out := pavedAPICheck(t, bin("paved"), "--against", catURL, "--admin", "http://"+next.admin)
	if code != 1 || !strings.Contains(out, "POST /reservations") || !strings.Contains(out, "consumed by orders") {
		t.Fatalf("paved api check of the next inventory: got exit %d\n%s\nwant 1 listing POST /reservations", code, out)
	}
	code, out = pavedAPICheck(t, bin("paved"), "--against", catURL, "--admin", "http://"+inv1.admin)
	if code != 0 || !strings.Contains(out, api+" (openapi): ok") {
		t.Fatalf("paved api check of the running inventory: got exit %d\n%s\nwant 0", code, out)
	}
	next.stop()

	// Shipped all the same: the catalog records the breaking change.
	inv1.stop()
	startProc(t, bin("noreservations"), register...)
	until(t, "the second version stored", func() bool {
		return tryJSON(t, catURL+"/api/v1/apis/"+api, &sum) == "" && sum.VersionCount == 2
	})
	if !sum.Breaking() || sum.Latest.Version != "2.0.0" || sum.Latest.Breaking[0].Operation != "POST /reservations" {
		t.Fatalf("second version: got %+v, want 2.0.0 breaking POST /reservations", sum.Latest)
	}
	var sc catalog.ComponentScorecard
	until(t, "inventory's scorecard", func() bool { return tryJSON(t, catURL+"/api/v1/components/inventory/scorecard", &sc) == "" })
	i := slices.IndexFunc(sc.Failing, func(r catalog.RuleResult) bool { return r.ID == "api-compatible" })
	if i < 0 || !strings.Contains(sc.Failing[i].Message, "orders") {
		t.Fatalf("inventory's failing rules: got %+v, want api-compatible naming orders", sc.Failing)
	}
	if page := getText(t, catURL+"/apis/"+api); !strings.Contains(page, `id="breaking"`) || !strings.Contains(page, "api-path-removed-without-deprecation") {
		t.Errorf("the API page does not show the breaking change")
	}
}
