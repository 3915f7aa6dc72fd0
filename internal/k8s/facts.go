package k8s

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/paved-road/paved/compliance"
)

// Where names a Deployment and its file, as findings and facts cite it:
// "deployment/hello (deploy/hello/deployment.yaml)".
func Where(d Located[Deployment]) string {
	return fmt.Sprintf("deployment/%s (%s)", d.Object.Metadata.Name, d.File)
}

// ServiceContainer returns the Deployment's container that runs the service: the one
// named after the Deployment, or its first; false when it has none.
func ServiceContainer(d Deployment) (Container, bool) {
	cs := d.Spec.Template.Spec.Containers
	if len(cs) == 0 {
		return Container{}, false
	}
	for _, c := range cs {
		if c.Name == d.Metadata.Name {
			return c, true
		}
	}
	return cs[0], true
}

// PortNumber resolves a probe's or Service's target port against container c: a
// number as is, a name by c's ports; false for a name c lacks.
func PortNumber(c Container, p IntOrString) (int, bool) {
	if p.Str == "" {
		return p.Int, true
	}
	for _, cp := range c.Ports {
		if cp.Name == p.Str {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// matches reports whether every label of sel is in labels (an empty selector matches
// nothing: Paved's objects always select).
func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Facts returns what the Deployment d (its [ServiceContainer]) and the objects of set
// around it say about the pods, as the compliance rule kubernetes-manifests reads them:
// probes (ports resolved against the container), the scrapes of the PodMonitors
// selecting the pods, of the ServiceMonitors selecting a Service that selects them, and
// of prometheus.io annotations, the grace period, the resources and the
// securityContext. A Deployment without a container gives facts without probes.
func Facts(d Located[Deployment], set Set) *compliance.Kubernetes {
	dep := d.Object
	spec := dep.Spec.Template.Spec
	c, _ := ServiceContainer(dep)
	k := &compliance.Kubernetes{Source: Where(d), TerminationGracePeriod: 30 * time.Second}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		k.TerminationGracePeriod = time.Duration(*g) * time.Second
	}
	for _, pr := range []struct {
		kind string
		p    *Probe
	}{{compliance.ProbeStartup, c.StartupProbe}, {compliance.ProbeLiveness, c.LivenessProbe}, {compliance.ProbeReadiness, c.ReadinessProbe}} {
		if pr.p == nil {
			continue
		}
		kp := compliance.KubernetesProbe{Kind: pr.kind}
		switch p := pr.p; {
		case p.HTTPGet != nil:
			kp.Path = p.HTTPGet.Path
			kp.Port, _ = PortNumber(c, p.HTTPGet.Port)
		case p.GRPC != nil:
			kp.GRPC, kp.Port = true, p.GRPC.Port
		case p.TCPSocket != nil:
			kp.Other = "tcpSocket"
		case p.Exec != nil:
			kp.Other = "exec"
		default:
			kp.Other = "empty"
		}
		k.Probes = append(k.Probes, kp)
	}
	labels := dep.Spec.Template.Metadata.Labels
	ns := dep.Metadata.Namespace
	for _, pm := range set.PodMonitors {
		if pm.Metadata.Namespace != ns || !matches(pm.Spec.Selector.MatchLabels, labels) {
			continue
		}
		for _, e := range pm.Spec.PodMetricsEndpoints {
			port, _ := PortNumber(c, Str(e.Port))
			k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "PodMonitor/" + pm.Metadata.Name, Port: port, Path: e.Path})
		}
	}
	for _, sm := range set.ServiceMonitors {
		for _, ls := range set.Services {
			s := ls.Object
			if s.Metadata.Namespace != ns || sm.Metadata.Namespace != ns ||
				!matches(sm.Spec.Selector.MatchLabels, s.Metadata.Labels) || !matches(s.Spec.Selector, labels) {
				continue
			}
			for _, e := range sm.Spec.Endpoints {
				target := e.TargetPort
				if e.Port != "" {
					i := slices.IndexFunc(s.Spec.Ports, func(p ServicePort) bool { return p.Name == e.Port })
					if i < 0 {
						continue // a port this Service lacks: the endpoint scrapes nothing here
					}
					if target = s.Spec.Ports[i].TargetPort; target.IsZero() {
						target = Int(s.Spec.Ports[i].Port)
					}
				}
				port, _ := PortNumber(c, target)
				k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "ServiceMonitor/" + sm.Metadata.Name, Port: port, Path: e.Path})
			}
		}
	}
	if a := dep.Spec.Template.Metadata.Annotations; a["prometheus.io/scrape"] == "true" {
		port, _ := strconv.Atoi(a["prometheus.io/port"])
		k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "annotations", Port: port, Path: a["prometheus.io/path"]})
	}
	if r := c.Resources; r != nil {
		k.CPURequest, k.MemoryRequest, k.MemoryLimit = r.Requests["cpu"], r.Requests["memory"], r.Limits["memory"]
	}
	if sc := spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		k.RunAsNonRoot = *sc.RunAsNonRoot
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			k.RunAsNonRoot = *sc.RunAsNonRoot
		}
		k.ReadOnlyRootFilesystem = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		k.NoPrivilegeEscalation = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		k.DropsAllCapabilities = sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL")
	}
	return k
}
