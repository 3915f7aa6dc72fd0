package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
)

var update = flag.Bool("update", false, "rewrite docs/catalog.md's settings table from the Settings struct")

// TestSettingsDocIsFresh fails when docs/catalog.md does not hold the table
// service.WriteConfigReference makes from the catalog's Settings. Run
//
//	go test ./cmd/catalog -run TestSettingsDocIsFresh -update
//
// to rewrite it.
func TestSettingsDocIsFresh(t *testing.T) {
	const (
		path  = "../../docs/catalog.md"
		begin = "<!-- BEGIN GENERATED: catalog Settings -->"
		end   = "<!-- END GENERATED: catalog Settings -->"
	)
	var table bytes.Buffer
	if err := service.WriteConfigReference(&table, &Settings{}); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %s ... %s", path, begin, end)
	}
	fresh := s[:i+len(begin)] + "\n" + table.String() + s[j:]
	if fresh == s {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run go test ./cmd/catalog -run TestSettingsDocIsFresh -update", path)
}
