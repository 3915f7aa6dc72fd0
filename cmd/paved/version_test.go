package main

import (
	"runtime/debug"
	"testing"
)

// TestPavedVersionOf: a new service requires the core version paved was built with only
// when that is a published version; a workspace build, a replaced core or a commit's
// pseudo-version (a clean checkout stamps one) mean a checkout, which paved new replaces.
func TestPavedVersionOf(t *testing.T) {
	core := func(v string, replaced bool) *debug.BuildInfo {
		d := &debug.Module{Path: "github.com/paved-road/paved", Version: v}
		if replaced {
			d.Replace = &debug.Module{Path: "../..", Version: ""}
		}
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/paved-road/paved/cmd/paved", Version: "v0.0.0-20261203191233-458126305f30"},
			Deps: []*debug.Module{{Path: "golang.org/x/mod", Version: "v0.42.0"}, d}}
	}
	for _, tt := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{core("v0.4.0", false), "v0.4.0"},
		{core("(devel)", false), ""},
		{core("v0.4.0", true), ""},
		{core("v0.0.0-20261203191233-458126305f30", false), ""},
		{&debug.BuildInfo{}, ""},
	} {
		if got := pavedVersionOf(tt.bi); got != tt.want {
			t.Errorf("pavedVersionOf(core %+v): got %q, want %q", tt.bi.Deps, got, tt.want)
		}
	}
}
