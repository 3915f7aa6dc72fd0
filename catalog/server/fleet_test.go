package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// fleet is a catalog (open mode, a memory store) driven in-process, without sockets, so
// that it runs inside a synctest bubble on the fake clock.
type fleet struct {
	t   *testing.T
	t0  time.Time
	st  *memory.Store
	srv *server.Server
	trk *server.Tracker
}

func newFleet(t *testing.T, mutate ...func(*server.Options)) *fleet {
	st := memory.New(memory.Options{Grace: 5 * time.Second})
	t.Cleanup(func() { _ = st.Close() })
	opts := server.Options{Open: true}
	for _, m := range mutate {
		m(&opts)
	}
	srv := server.New(st, opts)
	return &fleet{t: t, t0: time.Now().UTC(), st: st, srv: srv, trk: server.NewTracker(srv)}
}

// at sleeps until sec seconds after the start.
func (f *fleet) at(sec float64) {
	f.t.Helper()
	d := time.Until(f.t0.Add(time.Duration(sec * float64(time.Second))))
	if d < 0 {
		f.t.Fatalf("at %vs: the clock is past it already", sec)
	}
	time.Sleep(d)
	synctest.Wait()
}

// observe runs the tracker on the store's instance set, as Run does after a change.
func (f *fleet) observe() {
	f.t.Helper()
	set, err := f.st.Instances(context.Background(), "")
	if err != nil {
		f.t.Fatal(err)
	}
	f.trk.Pass(context.Background(), set)
}

func (f *fleet) call(method, path, token string, body any) resp {
	f.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			f.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.RemoteAddr = "127.0.0.1:1234"
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func (f *fleet) component(name, owner string) {
	f.t.Helper()
	expect(f.t, f.call("PUT", "/api/v1/components/"+name, "", storetest.Component(name, owner)), 201)
}

// put registers or heartbeats an instance in env with a TTL of ttl seconds; commit, when
// not zero, is its build's commit time (seconds after the start).
func (f *fleet) put(comp, id, env, version string, status catalog.Status, ttl int, commit float64) {
	f.t.Helper()
	in := storetest.Instance(comp, id)
	in.Version, in.Status, in.TTLSeconds = version, status, ttl
	in.Metadata = map[string]string{"environment": env, server.RevisionMetadata: "rev-" + version}
	if commit != 0 {
		in.Metadata[server.CommitTimeMetadata] = f.t0.Add(time.Duration(commit * float64(time.Second))).Format(time.RFC3339)
	}
	expect(f.t, f.call("PUT", "/api/v1/components/"+comp+"/instances/"+id, "", in), 200)
}

func (f *fleet) del(comp, id string) {
	f.t.Helper()
	expect(f.t, f.call("DELETE", "/api/v1/components/"+comp+"/instances/"+id, "", nil), 204)
}

func (f *fleet) ts(sec float64) time.Time { return f.t0.Add(time.Duration(sec * float64(time.Second))) }

func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("got %v decoding %s, want %T", err, r.body, v)
	}
	return v
}

func ptr(f float64) *float64 { return &f }

// sameJSON fails t unless got and want encode to the same JSON.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

const long = 3600 // the TTL of instances that heartbeat for the whole test

// A synthetic fleet on the fake clock: versions rolled out, one rolled back, instances
// going critical and recovering, one component crashing to nothing and restarting, a
// stopping instance's brief critical report, and a pipeline's pushed events. The
// catalog records exactly these deployments and incidents and computes exactly these
// DORA keys.
func TestSyntheticFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t)
		f.component("orders", "sales")
		f.component("billing", "finance")
		f.component("ledger", "finance")

		// orders in production: 1.0.0 on two instances, built an hour before the start.
		f.at(10)
		f.put("orders", "o1", "production", "1.0.0", catalog.StatusPassing, long, -3600)
		f.put("orders", "o2", "production", "1.0.0", catalog.StatusPassing, long, -3600)
		f.observe()
		// billing in staging: one instance with a 5 s TTL that stops heartbeating
		// (crashes) at 54 s, is removed, and is restarted at 90 s.
		f.at(50)
		f.put("billing", "b1", "staging", "2.0.0", catalog.StatusPassing, 5, 0)
		expect(t, f.call("PUT", "/api/v1/components/billing/scorecard", "", catalog.Scorecard{Instance: "b1", RuleSetVersion: "1", Score: 80,
			Passed: []string{"owner"}, Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "no runbook"}}}), 204)
		f.observe()
		f.at(52)
		f.put("billing", "b1", "staging", "2.0.0", catalog.StatusPassing, 5, 0)
		f.at(54)
		f.put("billing", "b1", "staging", "2.0.0", catalog.StatusPassing, 5, 0)
		f.at(60) // expired at 59
		f.observe()
		f.at(70) // removed at 64 (59 plus the 5 s grace)
		f.observe()

		// Nothing forgotten: billing has no instance, and keeps its scorecard, its
		// deployment and its DORA history.
		set := decode[struct{ Instances []catalog.Instance }](t, f.call("GET", "/api/v1/components/billing/instances?status=all", "", nil))
		if len(set.Instances) != 0 {
			t.Fatalf("billing at 70 s: got %d instances, want none", len(set.Instances))
		}
		sc := decode[catalog.ComponentScorecard](t, f.call("GET", "/api/v1/components/billing/scorecard", "", nil))
		if !sc.Retained || sc.Score != 80 || len(sc.Instances) != 1 || sc.Instances[0].Instance != "b1" || len(sc.Failing) != 1 || sc.Failing[0].ID != "runbook-link" {
			t.Fatalf("billing's scorecard with no instance: got %+v, want b1's last card (80, failing runbook-link), retained", sc)
		}
		if !sc.Instances[0].ReportedAt.Equal(f.ts(50)) {
			t.Fatalf("got the card reported at %v, want %v", sc.Instances[0].ReportedAt, f.ts(50))
		}
		rep := decode[catalog.DORAReport](t, f.call("GET", "/api/v1/dora?component=billing", "", nil))
		if len(rep.Components) != 1 || rep.Components[0].Running || rep.Components[0].Deployments != 1 {
			t.Fatalf("billing's DORA with no instance: got %+v, want one deployment, not running", rep.Components)
		}

		f.at(90)
		f.put("billing", "b2", "staging", "2.0.0", catalog.StatusPassing, long, 0)
		f.observe()

		// ledger is no Paved service: its pipeline posts its deployment.
		f.at(95)
		ev := catalog.DeploymentEvent{Component: "ledger", DisplayName: "ledger 7.1 to production", URL: "https://ci.example.com/ledger/7",
			LastUpdated: f.ts(95), UpdateSequenceNumber: 1, Version: "7.1", Revision: "abc123", CommitTime: f.ts(-20),
			DeploymentProperties: catalog.DeploymentProperties{SequenceNumber: 7, State: catalog.DeploymentInProgress, StartedAt: f.ts(20),
				Environment: catalog.EventEnvironment{Category: "production", DisplayName: "Production EU", EnvironmentID: "prod-eu"},
				Pipeline:    catalog.Pipeline{PipelineID: "ledger-deploy", DisplayName: "Deploy ledger", URL: "https://ci.example.com/ledger"}}}
		expect(t, f.call("POST", "/api/v1/events", "", ev), 201)
		ev.UpdateSequenceNumber, ev.DeploymentProperties.State, ev.DeploymentProperties.CompletedAt = 2, catalog.DeploymentSuccessful, f.ts(80)
		expect(t, f.call("POST", "/api/v1/events", "", ev), 200)
		stale := ev
		stale.DeploymentProperties.State = catalog.DeploymentFailed
		if d := decode[catalog.Deployment](t, f.call("POST", "/api/v1/events", "", stale)); d.State != catalog.DeploymentSuccessful {
			t.Fatalf("a stale update: got state %s, want the stored successful", d.State)
		}

		// A rolling update to 1.1.0 (committed at +40 s), one instance at a time.
		f.at(100)
		f.put("orders", "o3", "production", "1.1.0", catalog.StatusPassing, long, 40)
		f.observe()
		f.at(110)
		f.del("orders", "o1")
		f.put("orders", "o4", "production", "1.1.0", catalog.StatusPassing, long, 40)
		f.observe()
		f.at(120)
		f.del("orders", "o2")
		f.observe()
		// 1.2.0 goes critical and is rolled back.
		f.at(200)
		f.put("orders", "o5", "production", "1.2.0", catalog.StatusPassing, long, 150)
		f.observe()
		f.at(210)
		f.put("orders", "o5", "production", "1.2.0", catalog.StatusCritical, long, 150)
		f.observe()
		f.at(230)
		f.del("orders", "o5")
		f.observe()
		// o3 restarts: it reports critical as it stops, then deregisters; a new
		// instance of the same version comes. Neither an incident nor a deployment.
		f.at(300)
		f.put("orders", "o3", "production", "1.1.0", catalog.StatusCritical, long, 40)
		f.observe()
		f.at(302)
		f.del("orders", "o3")
		f.put("orders", "o6", "production", "1.1.0", catalog.StatusPassing, long, 40)
		f.observe()

		f.at(500)
		f.observe()
		dep := func(id, version, prev string, state catalog.DeploymentState, rollback bool, started, ready, finished float64, n int, commit float64) catalog.Deployment {
			d := catalog.Deployment{ID: id, Component: "orders", Environment: "production", Source: catalog.SourceObserved, Version: version,
				Revision: "rev-" + version, CommitTime: f.ts(commit), PreviousVersion: prev, State: state, Rollback: rollback,
				StartedAt: f.ts(started), FirstReadyAt: f.ts(ready), Instances: n}
			if finished != 0 {
				d.FinishedAt = f.ts(finished)
			}
			return d
		}
		wantOrders := []catalog.Deployment{
			dep("o-4", "1.1.0", "1.2.0", catalog.DeploymentSuccessful, true, 230, 230, 230, 2, 40),
			dep("o-3", "1.2.0", "1.1.0", catalog.DeploymentRolledBack, false, 200, 200, 0, 1, 150),
			dep("o-2", "1.1.0", "1.0.0", catalog.DeploymentSuccessful, false, 100, 100, 120, 2, 40),
			dep("o-1", "1.0.0", "", catalog.DeploymentSuccessful, false, 10, 10, 10, 2, -3600),
		}
		sameJSON(t, "orders' deployments", decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/components/orders/deployments", "", nil)), wantOrders)
		wantBilling := catalog.Deployment{ID: "o-1", Component: "billing", Environment: "staging", Source: catalog.SourceObserved, Version: "2.0.0",
			Revision: "rev-2.0.0", State: catalog.DeploymentSuccessful, StartedAt: f.ts(50), FirstReadyAt: f.ts(50), FinishedAt: f.ts(50), Instances: 1}
		sameJSON(t, "billing's deployments", decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/components/billing/deployments", "", nil)), []catalog.Deployment{wantBilling})
		wantLedger := ev.Deployment()
		sameJSON(t, "finance's deployments", decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/deployments?owner=finance", "", nil)), []catalog.Deployment{wantBilling, wantLedger})
		sameJSON(t, "production since 150 s", decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/deployments?env=production&since="+f.ts(150).Format(time.RFC3339), "", nil)), wantOrders[:2])

		// The incidents: orders' 1.2.0 critical from 210 s to the rollback at 230 s
		// (o3's stop at 300 s lasted 2 s, under the 10 s minimum); billing crashed
		// from 60 s (seen expired) to the restart at 90 s.
		rep = decode[catalog.DORAReport](t, f.call("GET", "/api/v1/dora?window=1d", "", nil))
		if !rep.To.Equal(f.ts(500)) || rep.WindowSeconds != 86400 || rep.ChangeFailureWindowSeconds != 86400 {
			t.Fatalf("got to %v window %v change failure window %v, want %v 86400 86400", rep.To, rep.WindowSeconds, rep.ChangeFailureWindowSeconds, f.ts(500))
		}
		wantComps := []catalog.ComponentDORA{
			{Component: "billing", Owner: "finance", Environment: "staging", Running: true, DORA: catalog.DORA{
				Deployments: 1, DeploymentsPerDay: 1, FailedDeployments: 1, ChangeFailureRate: ptr(1), Incidents: 1, Restored: 1, TimeToRestoreSeconds: ptr(30)}},
			{Component: "ledger", Owner: "finance", Environment: "production", Running: false, DORA: catalog.DORA{
				Deployments: 1, DeploymentsPerDay: 1, LeadTimeSeconds: ptr(100), ChangeFailureRate: ptr(0)}},
			// Lead times 3610, 60, 50 and 190 s: the median is 125 s. 1.2.0 failed.
			{Component: "orders", Owner: "sales", Environment: "production", Running: true, DORA: catalog.DORA{
				Deployments: 4, DeploymentsPerDay: 4, LeadTimeSeconds: ptr(125), FailedDeployments: 1, ChangeFailureRate: ptr(0.25),
				Incidents: 1, Restored: 1, TimeToRestoreSeconds: ptr(20)}},
		}
		sameJSON(t, "DORA per component", rep.Components, wantComps)
		wantTeams := []catalog.TeamDORA{
			{Team: "finance", DORA: catalog.DORA{Deployments: 2, DeploymentsPerDay: 2, LeadTimeSeconds: ptr(100), FailedDeployments: 1,
				ChangeFailureRate: ptr(0.5), Incidents: 1, Restored: 1, TimeToRestoreSeconds: ptr(30)}},
			{Team: "sales", DORA: wantComps[2].DORA},
		}
		sameJSON(t, "DORA per team", rep.Teams, wantTeams)
		checkTeams(t, f)

		// A week later, with a 1-day window, nothing is left in it.
		f.at(500 + 7*86400)
		rep = decode[catalog.DORAReport](t, f.call("GET", "/api/v1/dora?owner=sales&window=1d", "", nil))
		sameJSON(t, "sales a week later", rep.Teams, []catalog.TeamDORA{{Team: "sales"}})
	})
}
