package catalog_test

import (
	"testing"

	"github.com/paved-road/paved/catalog"
)

func fptr(f float64) *float64 { return &f }

// DevOps health: each rule's threshold, and rules whose key is unknown left out.
func TestDevOpsHealth(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    catalog.DORA
		want int
		fail []string
	}{
		{"nothing deployed", catalog.DORA{}, 50, []string{"deploys-weekly"}},
		{"weekly, fast, safe", catalog.DORA{Deployments: 5, DeploymentsPerDay: 1.0 / 7, LeadTimeSeconds: fptr(3600), ChangeFailureRate: fptr(0.15)}, 100, nil},
		{"slow lead time", catalog.DORA{Deployments: 5, DeploymentsPerDay: 1, LeadTimeSeconds: fptr(8 * 86400), ChangeFailureRate: fptr(0)}, 85, []string{"lead-time-under-a-week"}},
		{"unrestored incident", catalog.DORA{Deployments: 1, DeploymentsPerDay: 1, ChangeFailureRate: fptr(1), Incidents: 1}, 33, []string{"change-failure-under-15", "restores-within-a-day"}},
		{"slow restore", catalog.DORA{DeploymentsPerDay: 0.1, Incidents: 2, Restored: 2, TimeToRestoreSeconds: fptr(2 * 86400)}, 0, []string{"deploys-weekly", "restores-within-a-day"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := catalog.EvaluateDevOpsHealth(tc.d)
			var fail []string
			for _, f := range got.Failed {
				fail = append(fail, f.ID)
			}
			if got.Score != tc.want || len(fail) != len(tc.fail) {
				t.Fatalf("got score %d failing %v, want %d failing %v", got.Score, fail, tc.want, tc.fail)
			}
			for i := range fail {
				if fail[i] != tc.fail[i] {
					t.Fatalf("got failing %v, want %v", fail, tc.fail)
				}
			}
		})
	}
}
