package footprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The footprint targets (issue: release shape) for a consumer of service against the
// hand-built baseline, built the same way in the same run, are 1.10x for the binary and
// 1.15x for the packages. The packages meet theirs (1.075x on 2026-12-06). The binary
// met its target (1.097x, from 1.106x, once gRPC spans were Paved's own instead of
// contrib's otelgrpc and two generic sorts over large structs were replaced), then the
// metrics and logs variables (#16), the consumer and Kubernetes compliance rules (#18,
// #21) and the check of unknown variables under a settings prefix brought it to 1.101x;
// the profiler made a package of its own (service/profiler) brought it to 1.076x, and
// the target is now asserted.
const (
	maxBinaryRatio   = 1.10
	maxPackagesRatio = 1.15

	targetBinaryRatio   = 1.10
	targetPackagesRatio = 1.15
)

// banned are module path prefixes a service that imports only service must not get
// from Paved: the backends', the catalog server's and the tests' dependencies.
var banned = []string{
	"github.com/chromedp/", "modernc.org/sqlite", "github.com/hashicorp/consul",
	"go.etcd.io/", "go.uber.org/zap", "github.com/go-json-experiment/",
	"github.com/nats-io/", // the NATS binding's and the examples' (#18)
}

// goIn runs the go command in dir as a user of that module would: outside the
// workspace, with the module cache and proxy of the machine.
func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, msg)
	}
	return string(out)
}

func lines(s string) []string { return strings.Fields(s) }

func isBanned(mod string) bool {
	for _, b := range banned {
		if strings.HasPrefix(mod, b) {
			return true
		}
	}
	return false
}

// build measures one module: its build list, the non-standard packages its main
// compiles, and the size of its binary.
type build struct {
	modules  map[string]string // path -> version, from go list -m all
	packages []string
	size     int64
}

func measure(t *testing.T, dir string) build {
	t.Helper()
	b := build{modules: map[string]string{}}
	for _, l := range strings.Split(strings.TrimSpace(goIn(t, dir, "list", "-m", "all")), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			b.modules[f[0]] = f[1]
		}
	}
	b.packages = lines(goIn(t, dir, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
	bin := filepath.Join(t.TempDir(), "bin")
	goIn(t, dir, "build", "-o", bin, ".")
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	b.size = fi.Size()
	return b
}

// TestConsumerFootprint: a module that imports only service gets no dependency of the
// backends, the catalog server or the tests from Paved (the ones it sees come from
// go-kit's own go.mod, at go-kit's versions, exactly as the baseline sees them); needs no
// newer Go than the core's floor; and stays within the binary and package ratios of the
// hand-built baseline.
func TestConsumerFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs outside the workspace")
	}
	consumer := measure(t, "consumer")
	baseline := measure(t, "baseline")

	// No edge from a Paved module to a banned module.
	for _, l := range strings.Split(strings.TrimSpace(goIn(t, "consumer", "mod", "graph")), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && strings.HasPrefix(f[0], "github.com/paved-road/") && isBanned(f[1]) {
			t.Errorf("go mod graph: %s requires %s: a service must not get it from Paved", f[0], f[1])
		}
	}
	// What go-kit's go.mod brings in is the same for the baseline; Paved lifts nothing.
	for mod, v := range consumer.modules {
		if !isBanned(mod) {
			continue
		}
		if bv, ok := baseline.modules[mod]; !ok || bv != v {
			t.Errorf("consumer's build list has %s %s, baseline's has %q: Paved brought it in or raised it", mod, v, bv)
		}
	}
	for mod, v := range consumer.modules {
		if bv, ok := baseline.modules[mod]; ok && bv != v && !strings.HasPrefix(mod, "github.com/paved-road/") {
			t.Logf("note: %s is %s for the consumer, %s for the baseline", mod, v, bv)
		}
	}
	// The consumer's go.mod keeps the core's floor: nothing Paved requires asks for more.
	if goVersion := strings.TrimSpace(goIn(t, "consumer", "mod", "edit", "-json")); !strings.Contains(goVersion, `"Go": "1.26.0"`) {
		t.Errorf("consumer go.mod: want go 1.26.0 (the core's floor), got %s", goVersion)
	}

	// The profiler's package registers its handlers on http.DefaultServeMux in its init:
	// only a main that links service/profiler may compile it.
	for _, p := range lines(goIn(t, "consumer", "list", "-deps", ".")) {
		if p == "net/http/pprof" {
			t.Error("the consumer compiles net/http/pprof: a service that did not link service/profiler must not (its init serves the profiler on http.DefaultServeMux)")
		}
	}

	binRatio := float64(consumer.size) / float64(baseline.size)
	pkgRatio := float64(len(consumer.packages)) / float64(len(baseline.packages))
	t.Logf("modules in build list: consumer %d, baseline %d", len(consumer.modules), len(baseline.modules))
	t.Logf("non-standard packages compiled: consumer %d, baseline %d (%.3fx; held at %.2fx, target %.2fx)",
		len(consumer.packages), len(baseline.packages), pkgRatio, maxPackagesRatio, targetPackagesRatio)
	t.Logf("binary: consumer %d bytes, baseline %d bytes (%.3fx; held at %.3fx, target %.2fx)",
		consumer.size, baseline.size, binRatio, maxBinaryRatio, targetBinaryRatio)
	if binRatio > maxBinaryRatio {
		t.Errorf("binary %.3fx the baseline's, want at most %.3fx", binRatio, maxBinaryRatio)
	}
	if pkgRatio > maxPackagesRatio {
		t.Errorf("packages compiled %.3fx the baseline's, want at most %.2fx", pkgRatio, maxPackagesRatio)
	}
}
