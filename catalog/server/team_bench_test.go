package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// BenchmarkTeam computes one team's summary (its ten components, each with 20
// instances, a scorecard and a year of deployments, two a week) against the baseline
// of reading one component: the CPU behind a team page (bench/catalog -portal has the
// latencies over HTTP).
func BenchmarkTeam(b *testing.B) {
	st := memory.New(memory.Options{})
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	now := time.Now().UTC()
	for c := range 10 {
		name := fmt.Sprintf("svc-%d", c)
		if _, err := st.PutComponent(ctx, storetest.Component(name, "team-a")); err != nil {
			b.Fatal(err)
		}
		for i := range 20 {
			in := storetest.Instance(name, fmt.Sprintf("i-%d", i))
			in.TTLSeconds = 3600
			if _, err := st.PutInstance(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.PutScorecard(ctx, catalog.Scorecard{Component: name, Instance: "i-0", RuleSetVersion: "1", Score: 80}); err != nil {
			b.Fatal(err)
		}
		_, err := st.UpdateHistory(ctx, name, "production", func(h *catalog.History) (bool, error) {
			for k := range 104 {
				at := now.Add(-365*24*time.Hour + time.Duration(k)*84*time.Hour)
				pl := catalog.Pipeline{PipelineID: "deploy-" + name}
				h.Deployments = append(h.Deployments, catalog.Deployment{ID: catalog.EventDeploymentID(int64(k + 1)), Component: name,
					Environment: "production", Source: catalog.SourceEvent, Version: fmt.Sprintf("1.%d.0", k), State: catalog.DeploymentSuccessful,
					StartedAt: at, FirstReadyAt: at.Add(5 * time.Minute), FinishedAt: at.Add(5 * time.Minute), CommitTime: at.Add(-time.Hour),
					DisplayName: name, URL: "https://ci.example.com/" + name, Pipeline: &pl, UpdateSequenceNumber: 1, LastUpdated: at})
			}
			return true, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	srv := server.New(st, server.Options{})
	b.Run("baseline=GetComponent", func(b *testing.B) {
		for b.Loop() {
			if _, err := srv.Store().GetComponent(ctx, "svc-0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Team", func(b *testing.B) {
		for b.Loop() {
			if _, err := srv.Team(ctx, "team-a", 30*24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DORATrend", func(b *testing.B) {
		for b.Loop() {
			if _, err := srv.DORATrend(ctx, "team-a", "", 7*24*time.Hour, 12); err != nil {
				b.Fatal(err)
			}
		}
	})
}
