package compliance

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// KubernetesGraceMargin is what terminationGracePeriodSeconds must keep over DRAIN_DELAY
// plus SHUTDOWN_TIMEOUT: the deregistration and the trace flush that run around them.
const KubernetesGraceMargin = 5 * time.Second

// The kinds of [KubernetesProbe], and the admin path each must probe.
const (
	ProbeStartup   = "startup"   // /startupz
	ProbeLiveness  = "liveness"  // /livez
	ProbeReadiness = "readiness" // /readyz
)

// Kubernetes is what the Kubernetes manifests that run the service say about its pods:
// the Deployment's container (probes, resources, security context, grace period) and
// what scrapes its metrics (a PodMonitor, a ServiceMonitor or Prometheus annotations).
// `paved check --manifests` reads it from the manifests and evaluates the rule
// kubernetes-manifests with the service's settings as the Deployment sets them; a
// running service told where its manifests are (service.WithManifests with
// compliance/k8sfacts) reads it at start and evaluates the rule with the settings it
// runs with.
type Kubernetes struct {
	// Source names where the manifests were read, such as
	// "deployment/hello (deploy/hello/deployment.yaml)".
	Source string `json:"source"`
	// Probes are the container's startup, liveness and readiness probes; a kind
	// missing means no such probe.
	Probes []KubernetesProbe `json:"probes,omitempty"`
	// Scrapes are the ways Prometheus is told to scrape the pods.
	Scrapes []KubernetesScrape `json:"scrapes,omitempty"`
	// TerminationGracePeriod is the pod's terminationGracePeriodSeconds (Kubernetes's
	// default, 30s, when the manifest sets none).
	TerminationGracePeriod time.Duration `json:"terminationGracePeriod"`
	// CPURequest, MemoryRequest and MemoryLimit are the container's resources as
	// written ("100m", "128Mi"); empty means unset.
	CPURequest    string `json:"cpuRequest,omitempty"`
	MemoryRequest string `json:"memoryRequest,omitempty"`
	MemoryLimit   string `json:"memoryLimit,omitempty"`
	// RunAsNonRoot is the pod's (or container's) securityContext.runAsNonRoot.
	RunAsNonRoot bool `json:"runAsNonRoot,omitempty"`
	// ReadOnlyRootFilesystem is the container's securityContext.readOnlyRootFilesystem.
	ReadOnlyRootFilesystem bool `json:"readOnlyRootFilesystem,omitempty"`
	// NoPrivilegeEscalation is true when the container's
	// securityContext.allowPrivilegeEscalation is false.
	NoPrivilegeEscalation bool `json:"noPrivilegeEscalation,omitempty"`
	// DropsAllCapabilities is true when the container drops the capability ALL.
	DropsAllCapabilities bool `json:"dropsAllCapabilities,omitempty"`
}

// KubernetesProbe is one probe of the service's container.
type KubernetesProbe struct {
	// Kind is startup, liveness or readiness.
	Kind string `json:"kind"`
	// Path is an HTTP probe's path; empty for a gRPC probe.
	Path string `json:"path,omitempty"`
	// Port is the container port probed; 0 when a named port matches no container
	// port.
	Port int `json:"port"`
	// GRPC is true for a gRPC health probe, false for an HTTP one.
	GRPC bool `json:"grpc,omitempty"`
	// Other names a probe that is neither HTTP nor gRPC (tcpSocket, exec).
	Other string `json:"other,omitempty"`
}

// KubernetesScrape is one way Prometheus is told to scrape the pods.
type KubernetesScrape struct {
	// Via names the object, such as "PodMonitor/hello" or "annotations".
	Via string `json:"via"`
	// Port is the container port scraped; 0 when it resolves to none.
	Port int `json:"port"`
	// Path is the path scraped; empty means /metrics.
	Path string `json:"path,omitempty"`
}

// portOf returns the port of a listen address, 0 when it has none.
func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

func checkKubernetes(f Facts) Result {
	k := f.Kubernetes
	if k == nil {
		return NotApplicable("no Kubernetes manifests observed")
	}
	admin, grpcPort := portOf(f.AdminAddr), portOf(f.GRPCAddr)
	var p []string
	if admin == 0 {
		p = append(p, fmt.Sprintf("the admin address %q has no port the probes could reach", f.AdminAddr))
	}
	for _, want := range []struct{ kind, path string }{{ProbeStartup, "/startupz"}, {ProbeLiveness, "/livez"}, {ProbeReadiness, "/readyz"}} {
		found := false
		for _, pr := range k.Probes {
			if pr.Kind != want.kind {
				continue
			}
			found = true
			switch {
			case pr.Other != "":
				p = append(p, fmt.Sprintf("the %s probe is %s, not HTTP %s on the admin port %d", want.kind, pr.Other, want.path, admin))
			case pr.GRPC:
				if grpcPort == 0 || pr.Port != grpcPort {
					p = append(p, fmt.Sprintf("the %s probe is gRPC on port %d, but the service serves gRPC on %q", want.kind, pr.Port, f.GRPCAddr))
				}
			default:
				if pr.Port != admin {
					p = append(p, fmt.Sprintf("the %s probe is on port %d, not the admin port %d", want.kind, pr.Port, admin))
				}
				if pr.Path != want.path && !strings.HasPrefix(pr.Path, want.path+"/") {
					p = append(p, fmt.Sprintf("the %s probe asks %q, not %s", want.kind, clip(pr.Path), want.path))
				}
			}
		}
		if !found {
			p = append(p, fmt.Sprintf("no %s probe", want.kind))
		}
	}
	scraped := false
	var elsewhere []string
	for _, s := range k.Scrapes {
		path := s.Path
		if path == "" {
			path = "/metrics"
		}
		if s.Port == admin && admin != 0 && path == "/metrics" {
			scraped = true
		} else {
			elsewhere = append(elsewhere, fmt.Sprintf("%s scrapes port %d at %s", clip(s.Via), s.Port, clip(path)))
		}
	}
	switch {
	case !scraped && len(elsewhere) > 0:
		p = append(p, strings.Join(elsewhere, ", ")+fmt.Sprintf(", not /metrics on the admin port %d", admin))
	case !scraped:
		p = append(p, "nothing scrapes the metrics (no PodMonitor, ServiceMonitor or prometheus.io annotations)")
	}
	if need := f.DrainDelay + f.ShutdownTimeout + KubernetesGraceMargin; k.TerminationGracePeriod < need {
		p = append(p, fmt.Sprintf("terminationGracePeriodSeconds %v is below DRAIN_DELAY %v + SHUTDOWN_TIMEOUT %v + %v", k.TerminationGracePeriod, f.DrainDelay, f.ShutdownTimeout, KubernetesGraceMargin))
	}
	var unset []string
	for _, r := range []struct{ name, v string }{{"cpu request", k.CPURequest}, {"memory request", k.MemoryRequest}, {"memory limit", k.MemoryLimit}} {
		if r.v == "" {
			unset = append(unset, r.name)
		}
	}
	if len(unset) > 0 {
		p = append(p, "no "+strings.Join(unset, ", "))
	}
	var sec []string
	for _, s := range []struct {
		ok   bool
		name string
	}{
		{k.RunAsNonRoot, "runAsNonRoot: true"}, {k.ReadOnlyRootFilesystem, "readOnlyRootFilesystem: true"},
		{k.NoPrivilegeEscalation, "allowPrivilegeEscalation: false"}, {k.DropsAllCapabilities, "capabilities drop ALL"},
	} {
		if !s.ok {
			sec = append(sec, s.name)
		}
	}
	if len(sec) > 0 {
		p = append(p, "securityContext lacks "+strings.Join(sec, ", "))
	}
	if len(p) > 0 {
		return Fail("%s: %s", clip(k.Source), strings.Join(p, "; "))
	}
	return Pass("%s: probes and metrics on the admin port %d, grace %v, resources and securityContext set", clip(k.Source), admin, k.TerminationGracePeriod)
}
