package ui_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

// chromiumPath returns the browser named by PAVED_TEST_CHROMIUM, or skips the test (fails
// it when PAVED_TEST_REQUIRE_SERVERS=1).
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PAVED_TEST_CHROMIUM")
	if p == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_CHROMIUM is not set, and PAVED_TEST_REQUIRE_SERVERS=1: set it to a Chromium binary, such as /usr/bin/chromium")
		}
		t.Skip("PAVED_TEST_CHROMIUM is not set; set it to a Chromium binary, such as /usr/bin/chromium")
	}
	return p
}

// catalogServer is the real catalog API with the UI mounted, on a loopback listener.
type catalogServer struct {
	url    string
	tokens map[string]string // team -> token
}

func startCatalog(t *testing.T) *catalogServer {
	t.Helper()
	cs := &catalogServer{tokens: map[string]string{"team-a": "team-a-token-0123456789", "team-b": "team-b-token-0123456789"}}
	var file strings.Builder
	for team, tok := range cs.tokens {
		fmt.Fprintf(&file, "%s:%s\n", team, tok)
	}
	tokens, err := server.ParseTokens(strings.NewReader(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	api := server.New(st, server.Options{Tokens: tokens, Development: true})
	h, err := ui.New(api.Store(), ui.Options{Open: api.OpenMode(), Insights: api})
	if err != nil {
		t.Fatal(err)
	}
	// The catalog's background work: deployments and incidents recorded.
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- api.Run(runCtx) }()
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(func() { h.SetLive(false) }) // end the live-update streams
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		stopRun()
		if err := <-ran; err != nil {
			t.Errorf("run: %v", err)
		}
		_ = st.Close()
	})
	cs.url = "http://" + ln.Addr().String()
	return cs
}

// call makes an API call as team and fails the test unless the status is want.
func (cs *catalogServer) call(t *testing.T, team, method, path, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, cs.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cs.tokens[team])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
}

// register does what a service does at start: upsert its component, register its
// instance, report its scorecard.
func (cs *catalogServer) register(t *testing.T, team, name, id, version string, score int, dependsOn string) {
	t.Helper()
	cs.call(t, team, "PUT", "/api/v1/components/"+name,
		`{"owner":"`+team+`","type":"service","tier":2,"lifecycle":"production","description":"The `+name+` service.","dependsOn":[`+dependsOn+`]}`, http.StatusCreated)
	cs.call(t, team, "PUT", "/api/v1/components/"+name+"/instances/"+id,
		fmt.Sprintf(`{"version":%q,"addresses":{"http":"127.0.0.1:18080","admin":"127.0.0.1:19090"},"startedAt":%q,"ttlSeconds":30,"status":"passing"}`,
			version, time.Now().UTC().Format(time.RFC3339)), http.StatusOK)
	cs.call(t, team, "PUT", "/api/v1/components/"+name+"/scorecard",
		fmt.Sprintf(`{"instance":%q,"ruleSetVersion":"2026.1","score":%d,"passed":["owner","readiness-check"],"failed":[{"id":"runbook-link","level":"warning","message":"no runbook link"}]}`,
			id, score), http.StatusNoContent)
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	// The whole browser session is bounded; the browser stops when the test ends.
	parent, cancelParent := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser to exit
		cancelParent()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// tableInBrowser loads url and returns the components table as the browser shows it.
func tableInBrowser(t *testing.T, ctx context.Context, url string, reload bool) map[string]map[string]string {
	t.Helper()
	nav := chromedp.Navigate(url)
	if reload {
		nav = chromedp.Reload()
	}
	if err := chromedp.Do(ctx, nav, chromedp.WaitVisible(chromedp.CSS("#components"))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	table, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#components")))
	if err != nil {
		t.Fatalf("read the table: %v", err)
	}
	return tableRows(t, table)
}

// saveScreenshot writes a PNG of the whole page to PAVED_TEST_SCREENSHOT_DIR, else to
// $PAVED_ARTIFACTS/screenshots (CI's kept output), else to the test's temporary
// directory.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: got %q..., want a PNG", base64.StdEncoding.EncodeToString(png[:min(len(png), 12)]))
	}
	dir := os.Getenv("PAVED_TEST_SCREENSHOT_DIR")
	if a := os.Getenv("PAVED_ARTIFACTS"); dir == "" && a != "" {
		dir = filepath.Join(a, "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func TestBrowserShowsRegistrations(t *testing.T) {
	ctx := newBrowser(t)
	cs := startCatalog(t)

	cs.register(t, "team-a", "orders", "orders-1", "v1.4.2", 95, `"inventory"`)
	cs.register(t, "team-b", "inventory", "inventory-1", "v2.0.0", 75, "")

	rows := tableInBrowser(t, ctx, cs.url+"/", false)
	want := map[string]map[string]string{
		"orders":    {"owner": "team-a", "instances": "1/1", "versions": "v1.4.2", "score-cell": "95", "scoreClass": "score-good"},
		"inventory": {"owner": "team-b", "instances": "1/1", "versions": "v2.0.0", "score-cell": "75", "scoreClass": "score-fair"},
	}
	if len(rows) != 2 {
		t.Fatalf("got rows %v, want orders and inventory", rows)
	}
	for name, cells := range want {
		for k, v := range cells {
			if got := rows[name][k]; got != v {
				t.Errorf("%s %s: got %q, want %q", name, k, got, v)
			}
		}
	}
	// The stylesheet loaded under the CSP: the green score is green.
	styles, err := chromedp.Run(ctx, chromedp.ComputedStyle(chromedp.CSS(`tr[data-name="orders"] .score`)))
	if err != nil {
		t.Fatalf("computed style: %v", err)
	}
	bg := ""
	for _, s := range styles {
		if s.Name == "background-color" {
			bg = s.Value
		}
	}
	if bg != "rgb(30, 142, 62)" {
		t.Errorf("score 95 background: got %q, want rgb(30, 142, 62) from the stylesheet", bg)
	}
	saveScreenshot(t, ctx, "components")

	// The filter form works in the browser.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name="owner"]`), "team-b"),
		chromedp.Submit(chromedp.CSS(`form.filters`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="owner"][value="team-b"]`)),
	); err != nil {
		t.Fatalf("filter: %v", err)
	}
	table, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#components")))
	if err != nil {
		t.Fatal(err)
	}
	if got := tableRows(t, table); len(got) != 1 || got["inventory"] == nil {
		t.Errorf("owner=team-b: got rows %v, want inventory alone", got)
	}

	// The component page and its graph render.
	if err := chromedp.Do(ctx, chromedp.Navigate(cs.url+"/components/orders"), chromedp.WaitVisible(chromedp.CSS("#instances"))); err != nil {
		t.Fatal(err)
	}
	inst, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-id="orders-1"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inst, "v1.4.2") || !strings.Contains(inst, "passing") {
		t.Errorf("orders-1: got %q, want its version and status", inst)
	}
	box, err := chromedp.Run(ctx, chromedp.Dimensions(chromedp.CSS("figure.graph img")))
	if err != nil {
		t.Fatal(err)
	}
	if box.Width < 100 || box.Height < 40 {
		t.Errorf("graph image: got %dx%d, want the SVG drawn (the CSP allows it)", box.Width, box.Height)
	}
	saveScreenshot(t, ctx, "component")
	if err := chromedp.Do(ctx, chromedp.Navigate(cs.url+"/graph"), chromedp.WaitVisible(chromedp.CSS("figure.graph img"))); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, "graph")

	// orders deregisters its instance: on reload it runs no more, and keeps its last
	// score (nothing forgotten).
	if err := chromedp.Do(ctx, chromedp.Navigate(cs.url+"/")); err != nil {
		t.Fatal(err)
	}
	cs.call(t, "team-a", "DELETE", "/api/v1/components/orders/instances/orders-1", "", http.StatusNoContent)
	rows = tableInBrowser(t, ctx, cs.url+"/", true)
	if got := rows["orders"]; got["instances"] != "0/0" || got["versions"] != "none running" || got["score-cell"] != "95" {
		t.Errorf("after deregistration: got orders %v, want 0/0 instances, none running, its last score 95", got)
	}
	if got := rows["inventory"]; got["instances"] != "1/1" || got["score-cell"] != "75" {
		t.Errorf("after deregistration: got inventory %v, want it unchanged", got)
	}
	// And when its component is deleted, the row is gone.
	cs.call(t, "team-a", "DELETE", "/api/v1/components/orders", "", http.StatusNoContent)
	rows = tableInBrowser(t, ctx, cs.url+"/", true)
	if _, ok := rows["orders"]; ok || len(rows) != 1 || rows["inventory"]["owner"] != "team-b" {
		t.Errorf("after deletion: got rows %v, want inventory alone", rows)
	}
}
