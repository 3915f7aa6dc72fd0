package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
)

var update = flag.Bool("update", false, "rewrite the catalog's table in docs/configuration.md from Config")

const (
	docPath     = "../../docs/configuration.md"
	beginMarker = "<!-- BEGIN GENERATED: cmd/catalog Config -->"
	endMarker   = "<!-- END GENERATED: cmd/catalog Config -->"
)

// TestConfigurationDocIsFresh fails when docs/configuration.md does not hold the table
// of the catalog's own settings (Config without the base service.Config). Run
//
//	go test ./cmd/catalog -run TestConfigurationDocIsFresh -update
//
// to rewrite it.
func TestConfigurationDocIsFresh(t *testing.T) {
	var all bytes.Buffer
	if err := service.WriteConfigReference(&all, &Config{}); err != nil {
		t.Fatal(err)
	}
	base := map[string]bool{}
	for _, f := range service.Fields(&service.Config{}) {
		base[f.Key] = true
	}
	var table strings.Builder
	for i, line := range strings.SplitAfter(all.String(), "\n") {
		key, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
		if i < 2 || (line != "" && !base[key]) {
			table.WriteString(line)
		}
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
	if !strings.Contains(table.String(), "CATALOG_STORE") || strings.Contains(table.String(), "SERVICE_NAME") {
		t.Fatalf("the catalog's table should list CATALOG_STORE and not the base settings:\n%s", table.String())
	}
	if fresh == s {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run go test ./cmd/catalog -run TestConfigurationDocIsFresh -update", docPath)
}
