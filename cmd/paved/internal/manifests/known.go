package manifests

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/paved-road/paved/problem"
	"github.com/paved-road/paved/service"
)

// goRuntimeVariables are the Go runtime's own variables that a container may set.
var goRuntimeVariables = []string{"GOMEMLIMIT", "GOMAXPROCS", "GOGC", "GODEBUG", "GOTRACEBACK"}

// Known is the set of environment variables a Paved service reads: the base settings
// (service.Config, as its configuration reference lists them), the OpenTelemetry SDK's
// OTEL_* variables (which the service validates itself at start, refusing a bad value),
// the Go runtime's, and the service's own settings given to [NewKnown].
type Known struct {
	names []string
}

// NewKnown returns the known variables, with extra (a service's own settings) added.
func NewKnown(extra []string) Known {
	var k Known
	for _, f := range service.Fields(&service.Config{}) {
		k.names = append(k.names, f.Key)
	}
	k.names = append(k.names, goRuntimeVariables...)
	k.names = append(k.names, extra...)
	slices.Sort(k.names)
	k.names = slices.Compact(k.names)
	return k
}

// Check returns nil for a known variable, else an error naming it and, when one is
// close, the known variable it was probably meant to be.
func (k Known) Check(name string) error {
	if slices.Contains(k.names, name) || strings.HasPrefix(name, "OTEL_") {
		return nil
	}
	if near := k.Nearest(name); near != "" {
		return fmt.Errorf("%s is not a variable Paved knows: did you mean %s?", name, near)
	}
	return fmt.Errorf("%s is not a variable Paved knows", name)
}

// Nearest returns the known variable closest to name when it is a likely typo
// (problem.Nearest), else "".
func (k Known) Nearest(name string) string { return problem.Nearest(name, k.names) }

// referenceRow matches a row of a configuration reference as
// service.WriteConfigReference writes it: | `VARIABLE` | type | default | description |.
var referenceRow = regexp.MustCompile("^\\| `([A-Z][A-Z0-9_]*)` \\|")

// ReadReference returns the variables of the configuration reference tables in r, a
// Markdown file holding tables written by service.WriteConfigReference (such as
// docs/configuration.md, or a service's own reference of its settings).
func ReadReference(r io.Reader) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if m := referenceRow.FindStringSubmatch(sc.Text()); m != nil {
			names = append(names, m[1])
		}
	}
	return names, sc.Err()
}
