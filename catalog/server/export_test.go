package server_test

import (
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/storetest"
)

func exportComponent() catalog.Component {
	c := storetest.Component("orders", "team-a")
	c.Namespace = "shop"
	c.Links.Repository = "https://git.example.com/orders"
	c.DependsOn = []string{"inventory"}
	c.ProvidesAPIs = []string{"orders.v1"}
	c.Labels = map[string]string{"domain": "sales", "pci": ""}
	return c
}

func TestBackstageYAML(t *testing.T) {
	got := string(catalog.BackstageYAML(exportComponent()))
	want := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: "orders"
  description: "The orders service."
  labels:
    "domain": "sales"
  annotations:
    "paved.dev/tier": "2"
    "backstage.io/source-location": "url:https://git.example.com/orders"
  links:
    - url: "https://git.example.com/orders"
      title: "Repository"
      type: "repository"
    - url: "https://wiki.example.com/orders"
      title: "Runbook"
      type: "runbook"
spec:
  type: "service"
  lifecycle: "production"
  owner: "group:team-a"
  system: "shop"
  dependsOn:
    - "component:inventory"
  providesApis:
    - "orders.v1"
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCompassYAML(t *testing.T) {
	got := string(catalog.CompassYAML(exportComponent()))
	want := `configVersion: 1
name: "orders"
description: "The orders service."
typeId: SERVICE
ownerId: null
fields:
  tier: 2
  lifecycle: "Active"
links:
  - name: "Repository"
    type: REPOSITORY
    url: "https://git.example.com/orders"
  - name: "Runbook"
    type: DOCUMENT
    url: "https://wiki.example.com/orders"
labels:
  - "owner:team-a"
  - "depends-on:inventory"
  - "domain:sales"
  - "pci"
relationships: {}
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// A description cannot inject YAML: it stays one quoted scalar on one line.
func TestExportQuotesValues(t *testing.T) {
	c := exportComponent()
	c.Description = "x\"\nspec:\n  owner: evil # \u2028"
	for name, out := range map[string]string{
		"backstage": string(catalog.BackstageYAML(c)),
		"compass":   string(catalog.CompassYAML(c)),
	} {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "owner: evil") {
				t.Errorf("%s: got the line %q, want no injected key", name, line)
			}
		}
		if !strings.Contains(out, `description: "x\"\nspec:\n  owner: evil # \u2028"`) {
			t.Errorf("%s: got\n%s\nwant the description as one escaped scalar", name, out)
		}
	}
}

func TestExportRoutes(t *testing.T) {
	e := newEnv(t)
	e.seed()
	r := e.do("GET", "/api/v1/components/orders/catalog-info.yaml", "", nil)
	expect(t, r, 200)
	if r.header.Get("Content-Type") != "application/yaml" || !strings.Contains(string(r.body), `name: "orders"`) {
		t.Fatalf("got %s %s, want orders as application/yaml", r.header.Get("Content-Type"), r.body)
	}
	r = e.do("GET", "/api/v1/components/orders/compass.yml", "", nil)
	expect(t, r, 200)
	if !strings.HasPrefix(string(r.body), "configVersion: 1\n") {
		t.Fatalf("got %s, want a compass.yml", r.body)
	}
	expect(t, e.do("GET", "/api/v1/components/nope/compass.yml", "", nil), 404)

	r = e.do("GET", "/api/v1/export/catalog-info.yaml", "", nil)
	expect(t, r, 200)
	if n := strings.Count(string(r.body), "---\n"); n != 2 {
		t.Fatalf("got %d documents, want 2 (billing, orders):\n%s", n, r.body)
	}
	r = e.do("GET", "/api/v1/export/compass.yml?owner=team-b", "", nil)
	expect(t, r, 200)
	if strings.Count(string(r.body), "---\n") != 1 || !strings.Contains(string(r.body), `name: "billing"`) {
		t.Fatalf("got %s, want billing alone", r.body)
	}
	expect(t, e.do("GET", "/api/v1/export/compass.yml?tier=0", "", nil), 400)
}
