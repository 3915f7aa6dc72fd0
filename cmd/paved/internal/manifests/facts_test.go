package manifests_test

import (
	"strings"
	"testing"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/cmd/paved/internal/manifests"
)

// withoutPodMonitor removes the PodMonitor document from a set.
func withoutPodMonitor(t *testing.T, s string) string {
	t.Helper()
	docs := strings.Split(s, "---\n")
	var out []string
	for _, d := range docs {
		if !strings.Contains(d, "kind: PodMonitor") {
			out = append(out, d)
		}
	}
	if len(out) == len(docs) {
		t.Fatal("the set holds no PodMonitor")
	}
	return strings.Join(out, "---\n")
}

// compliance returns the compliance finding of r.
func complianceFinding(t *testing.T, r *manifests.Report) check.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == manifests.RuleCompliance {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", manifests.RuleCompliance, r.Findings)
	return check.Finding{}
}

// The scrape the compliance rule wants (/metrics on the admin port) may come from the
// PodMonitor Paved writes, from prometheus.io annotations, or from a ServiceMonitor
// whose Service port leads to the admin port; such a Service exposes the admin port,
// which service-ports refuses: why Paved's set has a PodMonitor (docs/operations.md).
func TestComplianceScrapeAlternatives(t *testing.T) {
	bare := withoutPodMonitor(t, helloSet(t))
	if f := complianceFinding(t, checkSet(t, bare, manifests.CheckOptions{})); f.Status != check.StatusFail || !strings.Contains(f.Message, "nothing scrapes the metrics") {
		t.Errorf("without the PodMonitor: got %+v, want nothing scrapes", f)
	}

	annotated := edit(t, bare, "  template:\n    metadata:\n", "  template:\n    metadata:\n      annotations:\n        prometheus.io/scrape: \"true\"\n        prometheus.io/port: \"9090\"\n")
	if r := checkSet(t, annotated, manifests.CheckOptions{}); !r.Passed {
		t.Errorf("annotations on the admin port: got %+v, want a pass", findings(r, check.StatusFail))
	}
	wrong := edit(t, annotated, `prometheus.io/port: "9090"`, `prometheus.io/port: "8080"`)
	if f := complianceFinding(t, checkSet(t, wrong, manifests.CheckOptions{})); f.Status != check.StatusFail || !strings.Contains(f.Message, "annotations scrapes port 8080") {
		t.Errorf("annotations on the public port: got %+v, want a failure naming them", f)
	}

	monitored := bare + `---
apiVersion: v1
kind: Service
metadata:
  name: hello-metrics
  labels:
    app.kubernetes.io/name: hello
    monitoring: "true"
spec:
  selector:
    app.kubernetes.io/name: hello
  ports:
    - name: metrics
      port: 9090
      targetPort: admin
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: hello
spec:
  selector:
    matchLabels:
      monitoring: "true"
  endpoints:
    - port: metrics
      path: /metrics
`
	r := checkSet(t, monitored, manifests.CheckOptions{})
	if f := complianceFinding(t, r); f.Status != check.StatusPass {
		t.Errorf("ServiceMonitor on the admin port: got %+v, want the compliance rule to pass", f)
	}
	if fails := findings(r, check.StatusFail); len(fails) != 1 || fails[0].ID != manifests.RuleServicePorts {
		t.Errorf("ServiceMonitor's Service: got failures %+v, want service-ports alone", fails)
	}
}
