package catalog_test

import (
	"fmt"

	"github.com/paved-road/paved/catalog"
)

// A compass.yml with the Compass ids the catalog knows: the component's own id, its
// owner team's, and the DEPENDS_ON relationship to a mapped dependency.
func ExampleCompassYAMLWith() {
	c := catalog.Component{Name: "orders", Owner: "team-orders", Type: catalog.TypeService, Tier: 2,
		Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"inventory"}}
	ids := catalog.CompassIDs{
		Teams:      map[string]string{"team-orders": "ari:cloud:identity::team/1"},
		Components: map[string]string{"orders": "ari:cloud:compass:c:component/s/1", "inventory": "ari:cloud:compass:c:component/s/2"},
	}
	fmt.Print(string(catalog.CompassYAMLWith(c, ids)))
	// Output:
	// configVersion: 1
	// name: "orders"
	// id: "ari:cloud:compass:c:component/s/1"
	// typeId: SERVICE
	// ownerId: "ari:cloud:identity::team/1"
	// fields:
	//   tier: 2
	//   lifecycle: "Active"
	// links: []
	// labels:
	//   - "owner:team-orders"
	//   - "depends-on:inventory"
	// relationships:
	//   DEPENDS_ON:
	//     - "ari:cloud:compass:c:component/s/2"
}

// The API entities of a Backstage export: one per provided API.
func ExampleProvidedAPIs() {
	c := catalog.Component{Name: "orders", Owner: "team-orders", Lifecycle: catalog.LifecycleProduction,
		ProvidesAPIs: []string{"orders-http-v1"}}
	for _, a := range catalog.ProvidedAPIs([]catalog.Component{c}) {
		fmt.Println(a.Name, a.Provider.Name, a.Descriptor == nil)
	}
	// Output:
	// orders-http-v1 orders true
}
