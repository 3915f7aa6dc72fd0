package export_test

import (
	"fmt"
	"os"

	"github.com/paved-road/paved/cmd/paved/internal/export"
	"github.com/paved-road/paved/service"
)

func ExampleFiles() {
	c, err := export.Component(service.Info{Name: "hello", Owner: "team-a", Lifecycle: "production"})
	if err != nil {
		fmt.Println(err)
		return
	}
	files, _ := export.Files(c, export.FormatBackstage)
	os.Stdout.Write(files[export.BackstageFile])
	// Output:
	// apiVersion: backstage.io/v1alpha1
	// kind: Component
	// metadata:
	//   name: "hello"
	//   annotations:
	//     "paved.dev/tier": "3"
	// spec:
	//   type: "service"
	//   lifecycle: "production"
	//   owner: "group:team-a"
}
