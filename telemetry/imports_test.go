package telemetry

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoBannedImports keeps the core lean: telemetry must not pull in etcd, Consul,
// bbolt, SQL drivers or any other Paved package.
func TestNoBannedImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	banned := []string{"go.etcd.io/", "github.com/hashicorp/consul", "modernc.org/sqlite", "github.com/chromedp/",
		"github.com/paved-road/paved/"}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/paved-road/paved/telemetry" {
			continue
		}
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("got dependency %s, want none under %s", dep, b)
			}
		}
	}
}
