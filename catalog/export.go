package catalog

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// yamlString writes s as a YAML double-quoted scalar. A JSON string is one, so no value,
// whatever it holds, can break out of its place in the document.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type link struct{ title, backstageType, compassType, url string }

func links(c *Component) []link {
	all := []link{
		{"Repository", "repository", "REPOSITORY", c.Links.Repository},
		{"Documentation", "docs", "DOCUMENT", c.Links.Docs},
		{"Runbook", "runbook", "DOCUMENT", c.Links.Runbook},
		{"On-call", "on-call", "ON_CALL", c.Links.OnCall},
		{"Dashboard", "dashboard", "DASHBOARD", c.Links.Dashboard},
		{"API spec", "api-spec", "OTHER_LINK", c.Links.APISpec},
	}
	return slices.DeleteFunc(all, func(l link) bool { return l.url == "" })
}

func sortedLabelKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// BackstageYAML returns c as a Backstage entity descriptor (catalog-info.yaml, kind
// Component, apiVersion backstage.io/v1alpha1). The owner becomes group:<owner>, the
// namespace spec.system, the tier the annotation paved.dev/tier; labels with an empty
// value, which Backstage does not allow, are left out. providesApis and consumesApis
// ([Component.ConsumedAPIs]: declared and observed) name API entities, which
// [BackstageAPIYAML] writes.
func BackstageYAML(c Component) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n")
	b.WriteString("  name: " + yamlString(c.Name) + "\n")
	if c.Description != "" {
		b.WriteString("  description: " + yamlString(c.Description) + "\n")
	}
	var labels []string
	for _, k := range sortedLabelKeys(c.Labels) {
		if v := c.Labels[k]; v != "" {
			labels = append(labels, "    "+yamlString(k)+": "+yamlString(v)+"\n")
		}
	}
	if len(labels) > 0 {
		b.WriteString("  labels:\n" + strings.Join(labels, ""))
	}
	b.WriteString("  annotations:\n")
	b.WriteString("    \"paved.dev/tier\": " + yamlString(strconv.Itoa(c.Tier)) + "\n")
	if c.Links.Repository != "" {
		b.WriteString("    \"backstage.io/source-location\": " + yamlString("url:"+c.Links.Repository) + "\n")
	}
	if ls := links(&c); len(ls) > 0 {
		b.WriteString("  links:\n")
		for _, l := range ls {
			b.WriteString("    - url: " + yamlString(l.url) + "\n")
			b.WriteString("      title: " + yamlString(l.title) + "\n")
			b.WriteString("      type: " + yamlString(l.backstageType) + "\n")
		}
	}
	b.WriteString("spec:\n")
	b.WriteString("  type: " + yamlString(c.Type) + "\n")
	b.WriteString("  lifecycle: " + yamlString(string(c.Lifecycle)) + "\n")
	b.WriteString("  owner: " + yamlString("group:"+c.Owner) + "\n")
	if c.Namespace != "" {
		b.WriteString("  system: " + yamlString(c.Namespace) + "\n")
	}
	if len(c.DependsOn) > 0 {
		b.WriteString("  dependsOn:\n")
		for _, d := range c.DependsOn {
			b.WriteString("    - " + yamlString("component:"+d) + "\n")
		}
	}
	if len(c.ProvidesAPIs) > 0 {
		b.WriteString("  providesApis:\n")
		for _, a := range c.ProvidesAPIs {
			b.WriteString("    - " + yamlString(a) + "\n")
		}
	}
	if consumed := c.ConsumedAPIs(); len(consumed) > 0 {
		b.WriteString("  consumesApis:\n")
		for _, a := range consumed {
			b.WriteString("    - " + yamlString(a) + "\n")
		}
	}
	return b.Bytes()
}

// compassType maps a component type to a Compass typeId.
func compassType(t string) string {
	switch t {
	case TypeService, TypeWorker:
		return "SERVICE"
	case TypeWebsite:
		return "WEBSITE"
	case TypeLibrary:
		return "LIBRARY"
	case "application":
		return "APPLICATION"
	}
	return "OTHER"
}

// compassLifecycle maps a lifecycle to Compass's lifecycle field.
func compassLifecycle(l Lifecycle) (string, bool) {
	switch l {
	case LifecycleExperimental:
		return "Pre-release", true
	case LifecycleProduction:
		return "Active", true
	case LifecycleDeprecated:
		return "Deprecated", true
	}
	return "", false
}

// CompassYAML returns c as an Atlassian Compass config-as-code file (compass.yml,
// configVersion 1) without Compass ids: no id (Compass assigns one on import), ownerId
// null with the owner as the label owner:<team>, dependencies as the labels
// depends-on:<name>. [CompassYAMLWith] adds the ids a [CompassIDs] knows.
func CompassYAML(c Component) []byte { return CompassYAMLWith(c, CompassIDs{}) }
