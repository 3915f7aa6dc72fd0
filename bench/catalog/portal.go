package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/paved-road/paved/catalog"
)

// The portal benchmark (-portal, issue #17): a catalog (memory store, or bbolt with
// -portal-store bbolt) holding 10,000
// instances of 500 components owned by 50 teams, each component with a year of
// deployment events pushed by its pipeline (POST /api/v1/events, about two a week, a
// tenth rolled back), serves the team pages (HTML and API), DORA's keys of each team
// and the teams' DORA trend charts. It reports each page's latency (p50, p99, max,
// one request at a time) and the catalog's RSS: after the fleet and its history were
// loaded, and after the pages were served.

type portalSettings struct {
	on                 bool
	store              string
	components, teams  int
	instances          int
	deploysPerWeek     float64
	rounds             int
	maxP99, maxAddedMB float64
}

func portalFlags() *portalSettings {
	p := &portalSettings{}
	flag.BoolVar(&p.on, "portal", false, "run the portal benchmark instead (#17): team pages and DORA's keys over a year of deployment events")
	flag.StringVar(&p.store, "portal-store", "memory", "-portal: the catalog's store, memory or bbolt (the default of cmd/catalog, in a temporary directory)")
	flag.IntVar(&p.components, "portal-components", 500, "-portal: components")
	flag.IntVar(&p.teams, "portal-teams", 50, "-portal: teams owning them")
	flag.IntVar(&p.instances, "portal-instances", 10000, "-portal: instances")
	flag.Float64Var(&p.deploysPerWeek, "portal-deploys-per-week", 2, "-portal: deployment events a week per component, over a year")
	flag.IntVar(&p.rounds, "portal-rounds", 10, "-portal: times each team's pages are served")
	flag.Float64Var(&p.maxP99, "portal-max-p99-ms", 50, "-portal: the target p99 of each page, in milliseconds")
	flag.Float64Var(&p.maxAddedMB, "portal-max-added-mib", 50, "-portal: the target RSS the pages may add, in MiB")
	return p
}

// portalPage is one kind of page of the benchmark.
type portalPage struct {
	name string
	path func(team string) string
}

func runPortal(bin string, p *portalSettings) error {
	if p.store != "memory" && p.store != "bbolt" {
		return fmt.Errorf("-portal-store: want memory or bbolt, got %q", p.store)
	}
	if p.components < 1 || p.teams < 1 || p.teams > p.components || p.instances < p.components || p.rounds < 1 || p.deploysPerWeek <= 0 {
		return fmt.Errorf("-portal: want 1 <= teams <= components <= instances, rounds >= 1 and deploys a week > 0")
	}
	dir, err := os.MkdirTemp("", "catalogportal")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin, err = buildCatalog(bin, dir); err != nil {
		return err
	}
	proc, err := start(bin, filepath.Join(dir, "data"), "", "CATALOG_STORE="+p.store, "CATALOG_DORA_WINDOW=720h")
	if err != nil {
		return err
	}
	defer proc.stop()
	cl, err := newClient(proc.api, 32)
	if err != nil {
		return err
	}
	defer cl.Close()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ctx := context.Background()
	pid := proc.cmd.Process.Pid
	rssStart, _, _ := memory(pid)

	// The fleet.
	t0 := time.Now()
	team := func(c int) string { return fmt.Sprintf("team-%02d", c%p.teams) }
	for c := range p.components {
		comp := component(fmt.Sprintf("svc-%03d", c))
		comp.Owner = team(c)
		comp.Links = catalog.Links{OnCall: "https://oncall.example.com/" + comp.Owner, Runbook: "https://wiki.example.com/" + comp.Name}
		if _, err := cl.PutComponent(ctx, comp); err != nil {
			return fmt.Errorf("registering components: %w", err)
		}
	}
	started := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	if err := parallel(32, p.instances, func(i int) error {
		comp := fmt.Sprintf("svc-%03d", i%p.components)
		in := instance(comp, i, time.Hour, started)
		if _, err := cl.PutInstance(ctx, in); err != nil {
			return err
		}
		if i < p.components { // one card a component
			sc := catalog.Scorecard{Component: comp, Instance: in.ID, RuleSetVersion: "2026.12", Score: 60 + i%41,
				Passed: []string{"owner-set", "readiness-check"}}
			if i%3 == 0 {
				sc.Failed = []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "no runbook link"}}
			}
			return cl.PutScorecard(ctx, sc)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("registering instances: %w", err)
	}
	// A year of deployment events per component, oldest first.
	year := 365 * 24 * time.Hour
	perComp := int(p.deploysPerWeek * 52)
	now := time.Now().UTC()
	if err := parallel(32, p.components, func(c int) error {
		rnd := rand.New(rand.NewPCG(uint64(c), 17))
		name := fmt.Sprintf("svc-%03d", c)
		for k := range perComp {
			at := now.Add(-year + time.Duration(float64(year)*(float64(k)+rnd.Float64())/float64(perComp)))
			state := catalog.DeploymentSuccessful
			if rnd.IntN(10) == 0 {
				state = catalog.DeploymentRolledBack
			}
			ev := catalog.DeploymentEvent{Component: name, DisplayName: fmt.Sprintf("%s %d", name, k), URL: "https://ci.example.com/" + name,
				LastUpdated: at.Add(5 * time.Minute), UpdateSequenceNumber: 1, Version: fmt.Sprintf("1.%d.0", k),
				CommitTime: at.Add(-time.Duration(1+rnd.IntN(72)) * time.Hour),
				DeploymentProperties: catalog.DeploymentProperties{SequenceNumber: int64(k + 1), State: state, StartedAt: at,
					CompletedAt: at.Add(5 * time.Minute), Environment: catalog.EventEnvironment{Category: catalog.EnvProduction},
					Pipeline: catalog.Pipeline{PipelineID: "deploy-" + name}}}
			if err := setupCall(hc, "POST", proc.api+"/api/v1/events", ev); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("posting deployment events: %w", err)
	}
	events := perComp * p.components
	loaded := time.Since(t0)
	rssLoaded, _, _ := memory(pid)

	pages := []portalPage{
		// The baseline, measured interleaved with the pages: the cheapest read, whose
		// tail is the machine's noise.
		{"baseline: GET /api/v1/components/{name}", func(t string) string { return "/api/v1/components/svc-0" + t[len(t)-2:] }},
		{"team page (HTML)", func(t string) string { return "/teams/" + t }},
		{"GET /api/v1/teams/{name}", func(t string) string { return "/api/v1/teams/" + t }},
		{"GET /api/v1/dora?owner=", func(t string) string { return "/api/v1/dora?owner=" + t }},
		{"team DORA trend (SVG)", func(t string) string { return "/teams/" + t + "/dora.svg" }},
		{"team deployment timeline (SVG)", func(t string) string { return "/teams/" + t + "/deployments.svg" }},
	}
	lat := make([][]time.Duration, len(pages))
	for range p.rounds {
		for tm := range p.teams {
			for i, pg := range pages {
				t := time.Now()
				resp, err := hc.Get(proc.api + pg.path(team(tm)))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s: %s", pg.path(team(tm)), resp.Status)
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}
	}
	rssAfter, hwm, _ := memory(pid)

	fmt.Printf("portal: %d components of %d teams, %d instances, %d deployment events over a year (%.1f a week each); loaded in %s; load average %s\n",
		p.components, p.teams, p.instances, events, p.deploysPerWeek, loaded.Round(time.Second), loadAverage())
	fmt.Printf("| page | requests | p50 | p99 | max | p50, p99 / baseline | p99 target %.0f ms |\n|---|---|---|---|---|---|---|\n", p.maxP99)
	met := true
	base50, base99 := percentile(lat[0], 0.5), percentile(lat[0], 0.99)
	for i, pg := range pages {
		p50, p99 := percentile(lat[i], 0.5), percentile(lat[i], 0.99)
		ok := float64(p99) <= p.maxP99*float64(time.Millisecond)
		met = met && ok
		fmt.Printf("| %s | %d | %s | %s | %s | %.1f×, %.1f× | %s |\n", pg.name, len(lat[i]), ms(p50), ms(p99), ms(percentile(lat[i], 1)),
			float64(p50)/float64(base50), float64(p99)/float64(base99), metText(ok))
	}
	added := max(rssAfter, hwm) - rssLoaded
	okRSS := added <= p.maxAddedMB
	fmt.Printf("RSS: %.1f MiB at start, %.1f MiB with the fleet and its history, %.1f MiB after the pages (high-water mark %.1f MiB): the pages added %.1f MiB (target < %.0f MiB: %s)\n",
		rssStart, rssLoaded, rssAfter, hwm, added, p.maxAddedMB, metText(okRSS))
	if !met || !okRSS {
		return fmt.Errorf("-portal: a target was missed")
	}
	return nil
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
