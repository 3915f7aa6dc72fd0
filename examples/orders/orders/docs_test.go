package orders_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
)

// TestDocsNameRealVariables: every variable docs/examples.md names is one the examples
// read (their own config structs, base settings included, or the OTEL_* ones), and the
// defaults its table gives for INVENTORY_SEED match the code.
func TestDocsNameRealVariables(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/examples.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]service.Field{}
	for _, f := range append(service.Fields(&orders.Config{}), service.Fields(&inventory.Config{})...) {
		known[f.Key] = f
	}
	for _, v := range regexp.MustCompile("`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)").FindAllStringSubmatch(string(doc), -1) {
		name := v[1]
		if strings.HasPrefix(name, "OTEL_") {
			continue
		}
		if _, ok := known[name]; !ok {
			t.Errorf("docs/examples.md names %s, which no example reads", name)
		}
	}
	seed := known["INVENTORY_SEED"]
	if !strings.Contains(string(doc), "| `INVENTORY_SEED` (inventory) | `"+seed.Default+"` |") {
		t.Errorf("docs/examples.md: the INVENTORY_SEED default is not %q", seed.Default)
	}
}
