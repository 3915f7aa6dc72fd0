package testenv

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Promtool runs `promtool check metrics` (PAVED_TEST_PROMTOOL, or promtool in PATH under
// CI) on text, a metrics exposition, and fails the test on any problem it reports,
// lint warnings included. Without promtool the test is skipped, or failed under CI.
func Promtool(t testing.TB, text string) {
	t.Helper()
	bin := Require(t, "PAVED_TEST_PROMTOOL", "promtool")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: got %v\n%s\nwant no problems, on:\n%s", err, out, text)
	}
}

// Exposition gathers g and returns its metrics in the Prometheus text format.
func Exposition(t testing.TB, g prometheus.Gatherer) string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}
