package integration_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

// buildExamples builds the example services names into a temporary directory.
func buildExamples(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = "../../examples"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

// getJSON GETs url into v, failing t unless the answer is 200.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if msg := tryJSON(t, url, v); msg != "" {
		t.Fatal(msg)
	}
}

// tryJSON GETs url into v, and says what went wrong unless the answer is 200.
func tryJSON(t *testing.T, url string, v any) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET %s: got %d %s, want 200", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, b)
	}
	return ""
}

// eventually calls f every 200 ms until it returns "", failing t with its last answer
// after limit.
func eventually(t *testing.T, limit time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopProc stops p with SIGINT, as an orchestrator does, and waits for it to exit.
func stopProc(t *testing.T, p *proc) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not stop within 15 s of SIGINT")
	}
}

// componentDORA returns the DORA keys of component over the last day, from the API.
func componentDORA(t *testing.T, api, component string) (catalog.DORA, bool) {
	t.Helper()
	var rep catalog.DORAReport
	getJSON(t, api+"/api/v1/dora?window=1d&component="+component, &rep)
	if len(rep.Components) != 1 {
		return catalog.DORA{}, false
	}
	return rep.Components[0].DORA, true
}

// Real processes: the catalog, examples/hello restarted with a new SERVICE_VERSION and
// examples/inventory killed and restarted. The catalog observes two deployments of
// hello and a deployment frequency, and a time to restore for inventory, with no
// pipeline telling it anything; the team pages show them.
func TestDeploymentsAndRestoreObservedEndToEnd(t *testing.T) {
	bin := buildCatalog(t)
	examples := buildExamples(t, "hello", "inventory")
	cat := startProc(t, bin, "SERVICE_ENV=development", "CATALOG_OPEN=true", "CATALOG_STORE=memory", "REGISTRY=none",
		"CATALOG_RATE_PER_CLIENT=0", "CATALOG_RATE_PER_BEARER=0", "CATALOG_MAX_CONNS_PER_CLIENT=0")
	svc := func(name, version string) *proc {
		return startProc(t, filepath.Join(examples, name), "SERVICE_ENV=development", "SERVICE_VERSION="+version,
			"CATALOG_URL="+cat.api, "REGISTRY_TTL=3s")
	}

	// hello 1.0.0, stopped, then 1.1.0: two deployments, 1.1.0 after 1.0.0.
	hello := svc("hello", "1.0.0")
	eventually(t, 20*time.Second, func() string {
		var deps []catalog.Deployment
		if msg := tryJSON(t, cat.api+"/api/v1/components/hello/deployments", &deps); msg != "" {
			return msg
		}
		if len(deps) != 1 || deps[0].State != catalog.DeploymentSuccessful {
			return fmt.Sprintf("hello 1.0.0: got deployments %+v, want one successful", deps)
		}
		return ""
	})
	stopProc(t, hello)
	svc("hello", "1.1.0")
	eventually(t, 20*time.Second, func() string {
		var deps []catalog.Deployment
		getJSON(t, cat.api+"/api/v1/components/hello/deployments", &deps)
		if len(deps) != 2 || deps[0].Version != "1.1.0" || deps[0].PreviousVersion != "1.0.0" || deps[1].Version != "1.0.0" ||
			deps[0].State != catalog.DeploymentSuccessful || deps[0].Environment != "development" {
			return fmt.Sprintf("hello after the restart: got deployments %+v, want 1.1.0 (after 1.0.0) then 1.0.0, in development", deps)
		}
		return ""
	})
	d, ok := componentDORA(t, cat.api, "hello")
	if !ok || d.Deployments != 2 || d.DeploymentsPerDay != 2 || d.Incidents != 0 {
		t.Errorf("hello's DORA over a day: got %+v, want 2 deployments, 2 a day, no incident (a graceful stop is none)", d)
	}

	// inventory killed: its instance expires, an incident opens, and lasts until the
	// restarted inventory passes.
	inv := svc("inventory", "1.0.0")
	eventually(t, 20*time.Second, func() string {
		var set struct{ Instances []catalog.Instance }
		if msg := tryJSON(t, cat.api+"/api/v1/components/inventory/instances", &set); msg != "" {
			return msg
		}
		if len(set.Instances) != 1 {
			return fmt.Sprintf("inventory: got %d healthy instances, want 1", len(set.Instances))
		}
		return ""
	})
	if err := inv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-inv.exited
	killed := time.Now()
	eventually(t, 20*time.Second, func() string {
		var set struct{ Instances []catalog.Instance }
		getJSON(t, cat.api+"/api/v1/components/inventory/instances?status=all", &set)
		if len(set.Instances) == 1 && set.Instances[0].Expired {
			return ""
		}
		return fmt.Sprintf("inventory after SIGKILL: got %+v, want its instance expired", set.Instances)
	})
	// Down long enough to be an incident (the catalog drops incidents shorter than 10 s).
	time.Sleep(time.Until(killed.Add(15 * time.Second)))
	svc("inventory", "1.0.0")
	eventually(t, 20*time.Second, func() string {
		d, ok := componentDORA(t, cat.api, "inventory")
		if !ok || d.Incidents != 1 || d.Restored != 1 || d.TimeToRestoreSeconds == nil {
			return fmt.Sprintf("inventory after the restart: got %+v, want one incident, restored", d)
		}
		if ttr := *d.TimeToRestoreSeconds; ttr < 9 || ttr > 40 {
			return fmt.Sprintf("inventory's time to restore: got %.1f s, want the outage, about 12 s (from expiry to passing)", ttr)
		}
		return ""
	})

	// The team pages show it.
	var team catalog.Team
	getJSON(t, cat.api+"/api/v1/teams/team-fulfilment?window=1d", &team)
	if team.DORA.Incidents != 1 || team.DORA.TimeToRestoreSeconds == nil || len(team.Components) != 1 || !team.Components[0].Running {
		t.Errorf("team-fulfilment: got %+v, want inventory running and its restored incident", team)
	}
	resp, err := http.Get(cat.api + "/teams/team-platform")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `href="/components/hello"`) {
		t.Errorf("/teams/team-platform: got %d, want a page listing hello", resp.StatusCode)
	}
}
