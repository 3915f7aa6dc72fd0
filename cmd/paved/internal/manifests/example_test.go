package manifests_test

import (
	"fmt"
	"strings"

	"github.com/paved-road/paved/cmd/paved/internal/manifests"
)

// Manifests for hello with a longer drain, then the check of a copy whose grace period
// was not raised with it.
func ExampleCheck() {
	files, err := manifests.Generate(manifests.Params{Name: "hello", Image: "registry.example.com/hello:1.0.0",
		Env: []manifests.EnvVar{{Name: "DRAIN_DELAY", Value: "20s"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	set := string(manifests.Join(files))
	fmt.Println(strings.Contains(set, "terminationGracePeriodSeconds: 45"))

	docs, _ := manifests.Parse("hello.yaml", []byte(strings.Replace(set, "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30", 1)))
	r, _ := manifests.Check("deploy/hello", docs, manifests.CheckOptions{})
	for _, f := range r.Findings {
		if f.ID == manifests.RuleGracePeriod {
			fmt.Println(f.Status, f.Message)
		}
	}
	// Output:
	// true
	// fail deployment/hello (hello.yaml): terminationGracePeriodSeconds 30 is below the stop budget 42s (deregistration 2s + DRAIN_DELAY 20s + SHUTDOWN_TIMEOUT 15s + trace flush up to 5s): the kubelet's SIGKILL would cut requests in flight
}
