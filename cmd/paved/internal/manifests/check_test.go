package manifests_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/cmd/paved/internal/manifests"
	"github.com/paved-road/paved/service"
)

// helloSet returns the manifests paved manifests writes for hello, as one YAML stream.
func helloSet(t *testing.T, env ...manifests.EnvVar) string {
	t.Helper()
	files, err := manifests.Generate(manifests.Params{Name: "hello", Image: "registry.example.com/hello:1.0.0", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return string(manifests.Join(files))
}

// edit replaces the first old in s with new, failing the test when old is missing, so
// a row never passes by editing nothing.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("the manifests hold no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// addEnv adds a literal variable to the container's env.
func addEnv(t *testing.T, s, name, value string) string {
	t.Helper()
	const last = "                  resource: limits.memory\n"
	return edit(t, s, last, last+"            - name: "+name+"\n              value: \""+value+"\"\n")
}

func checkSet(t *testing.T, yaml string, opts manifests.CheckOptions) *manifests.Report {
	t.Helper()
	docs, err := manifests.Parse("set.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := manifests.Check("test", docs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func findings(r *manifests.Report, st check.Status) []check.Finding {
	var out []check.Finding
	for _, f := range r.Findings {
		if f.Status == st {
			out = append(out, f)
		}
	}
	return out
}

// TestGeneratedSetPasses: what paved manifests writes passes every rule, with the
// grace period and ports the settings call for.
func TestGeneratedSetPasses(t *testing.T) {
	r := checkSet(t, helloSet(t), manifests.CheckOptions{})
	if !r.Passed || r.Deployments != 1 || r.Objects != 5 {
		t.Fatalf("got passed %v, %d Deployments of %d objects, want a pass, 1 of 5: %+v", r.Passed, r.Deployments, r.Objects, r.Findings)
	}
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	if !slices.Equal(ids, manifests.Rules()) {
		t.Errorf("findings: got %v, want %v", ids, manifests.Rules())
	}
	// Longer stops get a longer grace period; other ports move the probes with them.
	set := helloSet(t, manifests.EnvVar{Name: "DRAIN_DELAY", Value: "20s"}, manifests.EnvVar{Name: "ADMIN_ADDR", Value: ":7070"},
		manifests.EnvVar{Name: "GRPC_ADDR", Value: ":7000"})
	for _, want := range []string{"terminationGracePeriodSeconds: 45", "containerPort: 7070", "grpc:\n              port: 7000\n              service: readiness"} {
		if !strings.Contains(set, want) {
			t.Errorf("manifests with DRAIN_DELAY=20s, ADMIN_ADDR=:7070, GRPC_ADDR=:7000: want %q in\n%s", want, set)
		}
	}
	if r := checkSet(t, set, manifests.CheckOptions{}); !r.Passed {
		t.Errorf("check of that set: got %+v, want a pass", findings(r, check.StatusFail))
	}
}

// TestCheckCatchesEachInconsistency: each row breaks one thing in a set that passes,
// and the check fails that rule, saying what is wrong; the compliance rule
// kubernetes-manifests fails too where it checks the same thing (compliance), and
// alone for what only it checks (rule RuleCompliance).
func TestCheckCatchesEachInconsistency(t *testing.T) {
	tests := []struct {
		name       string
		break_     func(t *testing.T, s string) string
		opts       manifests.CheckOptions
		rule       string
		want       string
		compliance string // what the compliance finding says when it fails as well
	}{
		{"liveness path", func(t *testing.T, s string) string { return edit(t, s, "path: /livez", "path: /healthz") },
			manifests.CheckOptions{}, manifests.RuleProbes, `livenessProbe path "/healthz", want /livez`, `the liveness probe asks "/healthz", not /livez`},
		{"readiness on the public port", func(t *testing.T, s string) string {
			return edit(t, s, "path: /readyz\n              port: admin", "path: /readyz\n              port: http")
		}, manifests.CheckOptions{}, manifests.RuleProbes, `readinessProbe on port 8080, but ADMIN_ADDR=":9090" serves the probes on 9090`, "the readiness probe is on port 8080, not the admin port 9090"},
		{"probe on a port the container lacks", func(t *testing.T, s string) string {
			return edit(t, s, "path: /startupz\n              port: admin", "path: /startupz\n              port: metrics")
		}, manifests.CheckOptions{}, manifests.RuleProbes, `startupProbe port "metrics" is not a port of container hello`, "the startup probe is on port 0, not the admin port 9090"},
		{"ADMIN_ADDR moved, the container port did not", func(t *testing.T, s string) string { return addEnv(t, s, "ADMIN_ADDR", ":9091") },
			manifests.CheckOptions{}, manifests.RuleProbes, "serves the probes on 9091", "PodMonitor/hello scrapes port 9090 at /metrics, not /metrics on the admin port 9091"},
		{"admin on loopback", func(t *testing.T, s string) string { return addEnv(t, s, "ADMIN_ADDR", "127.0.0.1:9090") },
			manifests.CheckOptions{}, manifests.RuleProbes, "listens on loopback only", ""},
		{"gRPC probe without GRPC_ADDR", func(t *testing.T, s string) string {
			return edit(t, s, "httpGet:\n              path: /readyz\n              port: admin", "grpc:\n              port: 9090")
		}, manifests.CheckOptions{}, manifests.RuleProbes, "GRPC_ADDR is not set", "the readiness probe is gRPC on port 9090"},
		{"no liveness probe", func(t *testing.T, s string) string {
			return edit(t, s, "livenessProbe:", "lifecycle: {}\n          unusedProbe:")
		}, manifests.CheckOptions{}, manifests.RuleProbes, "no livenessProbe", "no liveness probe"},
		{"probe timeout at the probe wait", func(t *testing.T, s string) string { return s },
			manifests.CheckOptions{ProbeWait: time.Second}, manifests.RuleProbeTimeout, "timeoutSeconds 1 leaves no headroom over the probe wait 1s", ""},
		{"grace period below the budget", func(t *testing.T, s string) string {
			return edit(t, s, "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 20")
		}, manifests.CheckOptions{}, manifests.RuleGracePeriod, "terminationGracePeriodSeconds 20 is below the stop budget 27s", "terminationGracePeriodSeconds 20s is below DRAIN_DELAY 5s + SHUTDOWN_TIMEOUT 15s + 5s"},
		{"DRAIN_DELAY raised, grace period not", func(t *testing.T, s string) string { return addEnv(t, s, "DRAIN_DELAY", "20s") },
			manifests.CheckOptions{}, manifests.RuleGracePeriod, "terminationGracePeriodSeconds 30 is below the stop budget 42s", "terminationGracePeriodSeconds 30s is below DRAIN_DELAY 20s"},
		{"default grace period, long shutdown", func(t *testing.T, s string) string {
			return addEnv(t, edit(t, s, "      terminationGracePeriodSeconds: 30\n", ""), "SHUTDOWN_TIMEOUT", "25s")
		}, manifests.CheckOptions{}, manifests.RuleGracePeriod, "terminationGracePeriodSeconds 30 is below the stop budget 37s", "terminationGracePeriodSeconds 30s is below DRAIN_DELAY 5s + SHUTDOWN_TIMEOUT 25s"},
		{"Service exposes the admin port by name", func(t *testing.T, s string) string {
			return edit(t, s, "      targetPort: http\n", "      targetPort: http\n      protocol: TCP\n    - name: metrics\n      port: 9090\n      targetPort: admin\n")
		}, manifests.CheckOptions{}, manifests.RuleServicePorts, `service/hello (set.yaml) port "metrics" exposes the admin port 9090`, ""},
		{"Service exposes the admin port by number", func(t *testing.T, s string) string {
			return edit(t, s, "targetPort: http", "targetPort: 9090")
		}, manifests.CheckOptions{}, manifests.RuleServicePorts, `port "http" exposes the admin port 9090`, ""},
		{"a typo in a variable", func(t *testing.T, s string) string { return addEnv(t, s, "SHUTDOWN_TIMOUT", "10s") },
			manifests.CheckOptions{}, manifests.RuleEnvNames, "SHUTDOWN_TIMOUT is not a variable Paved knows: did you mean SHUTDOWN_TIMEOUT?", ""},
		{"a variable of the service's own, not given", func(t *testing.T, s string) string { return addEnv(t, s, "GREETING", "Hi") },
			manifests.CheckOptions{}, manifests.RuleEnvNames, "GREETING is not a variable Paved knows", ""},
		{"a value the service refuses", func(t *testing.T, s string) string { return addEnv(t, s, "DRAIN_DELAY", "5") },
			manifests.CheckOptions{}, manifests.RuleEnvValues, `DRAIN_DELAY="5": is not a valid duration`, ""},
		// What only the compliance rule checks.
		{"PodMonitor on the public port", func(t *testing.T, s string) string {
			return edit(t, s, "    - port: admin\n      path: /metrics", "    - port: http\n      path: /metrics")
		}, manifests.CheckOptions{}, manifests.RuleCompliance, "PodMonitor/hello scrapes port 8080 at /metrics, not /metrics on the admin port 9090", ""},
		{"nothing scrapes", func(t *testing.T, s string) string {
			return edit(t, s, "    - port: admin\n      path: /metrics", "    - port: nowhere\n      path: /metrics")
		}, manifests.CheckOptions{}, manifests.RuleCompliance, "PodMonitor/hello scrapes port 0", ""},
		{"no memory limit", func(t *testing.T, s string) string {
			return edit(t, s, "            limits:\n              memory: 256Mi\n", "")
		}, manifests.CheckOptions{}, manifests.RuleCompliance, "no memory limit", ""},
		{"root, writable, escalating", func(t *testing.T, s string) string {
			s = edit(t, s, "        runAsNonRoot: true\n", "")
			s = edit(t, s, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
			return edit(t, s, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
		}, manifests.CheckOptions{}, manifests.RuleCompliance,
			"securityContext lacks runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkSet(t, tt.break_(t, helloSet(t)), tt.opts)
			var fails, compl []check.Finding
			for _, f := range findings(r, check.StatusFail) {
				if f.ID == manifests.RuleCompliance && tt.rule != manifests.RuleCompliance {
					compl = append(compl, f)
				} else {
					fails = append(fails, f)
				}
			}
			if r.Passed || len(fails) != 1 || fails[0].ID != tt.rule || !strings.Contains(fails[0].Message, tt.want) || fails[0].Fix == "" {
				t.Errorf("got passed %v, failed %+v, want one failed %s saying %q, with a fix", r.Passed, fails, tt.rule, tt.want)
			}
			switch {
			case tt.compliance == "" && len(compl) != 0:
				t.Errorf("compliance: got %+v, want it to pass", compl)
			case tt.compliance != "" && (len(compl) != 1 || !strings.Contains(compl[0].Message, tt.compliance) || compl[0].Fix == ""):
				t.Errorf("compliance: got %+v, want it failed saying %q, with a fix", compl, tt.compliance)
			}
		})
	}
}

// TestOwnSettingsFromTheReference: a service's own variable passes once its
// configuration reference is given, and the reference of the base settings lists
// every field of service.Config.
func TestOwnSettingsFromTheReference(t *testing.T) {
	r := checkSet(t, addEnv(t, helloSet(t), "GREETING", "Hi"), manifests.CheckOptions{Known: []string{"GREETING"}})
	if !r.Passed {
		t.Errorf("GREETING known: got %+v, want a pass", findings(r, check.StatusFail))
	}
	f, err := os.Open("../../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := manifests.ReadReference(f)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range service.Fields(&service.Config{}) {
		want = append(want, f.Key)
	}
	if !slices.Equal(names, want) {
		t.Errorf("ReadReference(docs/configuration.md): got %v, want %v", names, want)
	}
}

// TestCheckWithoutDeployment: a directory of other objects fails, saying so.
func TestCheckWithoutDeployment(t *testing.T) {
	r := checkSet(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", manifests.CheckOptions{})
	if r.Passed || len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Message, "no Deployment") {
		t.Errorf("got %+v, want a failure saying there is no Deployment", r)
	}
	if _, err := manifests.Parse("bad.yaml", []byte("kind: Deployment\nspec: [\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("Parse of broken YAML: got %v, want an error naming the file", err)
	}
}
