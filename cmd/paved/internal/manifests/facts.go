package manifests

import (
	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/internal/k8s"
)

// checkCompliance evaluates the compliance rule kubernetes-manifests on the facts of
// the Deployment, with the settings its environment gives the service.
func (d *deploymentCheck) checkCompliance(dep k8s.Located[Deployment], set k8s.Set) {
	if len(d.dep.Spec.Template.Spec.Containers) == 0 {
		return // reported by the probes finding
	}
	rule, ok := compliance.DefaultRuleSet().Rule("kubernetes-manifests")
	if !ok {
		return
	}
	f := compliance.Facts{AdminAddr: d.cfg.AdminAddr, GRPCAddr: d.cfg.GRPCAddr, DrainDelay: d.cfg.DrainDelay,
		ShutdownTimeout: d.cfg.ShutdownTimeout, Kubernetes: k8s.Facts(dep, set)}
	res := rule.Check(f)
	fd := check.Finding{ID: RuleCompliance, Status: check.StatusPass, Message: res.Message}
	if res.Status == compliance.StatusFail {
		fd.Status, fd.Fix = check.StatusFail, rule.Fix
	}
	d.report.Findings = append(d.report.Findings, fd)
}
