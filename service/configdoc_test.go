package service_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the config structs")

const docPath = "../docs/configuration.md"

const (
	beginMarker = "<!-- BEGIN GENERATED: service.Config -->"
	endMarker   = "<!-- END GENERATED: service.Config -->"
)

// TestConfigurationDocIsFresh fails when docs/configuration.md does not hold the table
// WriteConfigReference makes from service.Config: a variable added, renamed or given a
// new default without regenerating the doc. Run
//
//	go test ./service -run TestConfigurationDocIsFresh -update
//
// to rewrite it.
func TestConfigurationDocIsFresh(t *testing.T) {
	var table bytes.Buffer
	if err := service.WriteConfigReference(&table, &service.Config{}); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %s ... %s", docPath, beginMarker, endMarker)
	}
	fresh := s[:i+len(beginMarker)] + "\n" + table.String() + s[j:]
	if fresh == s {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run go test ./service -run TestConfigurationDocIsFresh -update", docPath)
}
