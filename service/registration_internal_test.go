package service

import (
	"maps"
	"testing"
)

// An instance registers its build's revision and commit time beside its environment,
// when the build has them, for the catalog's lead time for changes.
func TestInstanceMetadataCarriesTheBuild(t *testing.T) {
	for _, tc := range []struct {
		b    BuildInfo
		want map[string]string
	}{
		{BuildInfo{}, map[string]string{"environment": "production"}},
		{BuildInfo{Revision: "0123abc", RevisionTime: "2026-03-04T05:06:07+01:00"},
			map[string]string{"environment": "production", "revision": "0123abc", "vcs_time": "2026-03-04T04:06:07Z"}},
		{BuildInfo{Revision: "0123abc", RevisionTime: "yesterday"}, map[string]string{"environment": "production", "revision": "0123abc"}},
	} {
		if got := instanceMetadata("production", tc.b); !maps.Equal(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.b, got, tc.want)
		}
	}
}
