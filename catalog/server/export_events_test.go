package server_test

import (
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// The Backstage export shows a component's event flows: the event API it publishes in
// providesApis, the one it consumes (observed from a natsjs consumer) in consumesApis.
func TestBackstageYAMLEventAPIs(t *testing.T) {
	pub := storetest.Component("orders", "team-a")
	pub.ProvidesAPIs = []string{"orders.placed"}
	con := storetest.Component("notifier", "team-a")
	con.ConsumesAPIs = []string{"orders.placed"}
	con.Uses = []catalog.APIUse{{API: "orders.placed", Observed: true}}
	if got := string(catalog.BackstageYAML(pub)); !strings.HasSuffix(got, "  providesApis:\n    - \"orders.placed\"\n") {
		t.Errorf("publisher: got\n%s\nwant providesApis orders.placed", got)
	}
	if got := string(catalog.BackstageYAML(con)); !strings.HasSuffix(got, "  consumesApis:\n    - \"orders.placed\"\n") {
		t.Errorf("consumer: got\n%s\nwant consumesApis orders.placed", got)
	}
}
