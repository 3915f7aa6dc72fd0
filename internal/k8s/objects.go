package k8s

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes objects Paved writes and checks, reduced to the fields it sets or
// reads. Field names and shapes follow k8s.io/api; the schemas in deploy/testdata hold
// the complete definitions that every manifest is validated against.

// Meta is an object's metadata.
type Meta struct {
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Header is what every object starts with.
type Header struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   Meta   `yaml:"metadata"`
}

// IntOrString is a port or a count given as a number or a name ("admin", "25%").
type IntOrString struct {
	Int int
	Str string // used when not empty
}

// Int returns a number IntOrString.
func Int(n int) IntOrString { return IntOrString{Int: n} }

// Str returns a named IntOrString.
func Str(s string) IntOrString { return IntOrString{Str: s} }

// String returns the name, or the number in decimal.
func (v IntOrString) String() string {
	if v.Str != "" {
		return v.Str
	}
	return strconv.Itoa(v.Int)
}

// IsZero reports an unset value, for omitempty.
func (v IntOrString) IsZero() bool { return v.Str == "" && v.Int == 0 }

// MarshalYAML writes a number or a string.
func (v IntOrString) MarshalYAML() (any, error) {
	if v.Str != "" {
		return v.Str, nil
	}
	return v.Int, nil
}

// UnmarshalYAML reads a number or a string.
func (v *IntOrString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a number or a name, got a %s", n.Line, kindName(n.Kind))
	}
	if n.Tag == "!!int" {
		i, err := strconv.Atoi(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		*v = IntOrString{Int: i}
		return nil
	}
	*v = IntOrString{Str: n.Value}
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "node"
}

// LabelSelector selects objects by label.
type LabelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels,omitempty"`
}

// Deployment is an apps/v1 Deployment.
type Deployment struct {
	Header `yaml:",inline"`
	Spec   DeploymentSpec `yaml:"spec"`
}

// DeploymentSpec is a Deployment's spec.
type DeploymentSpec struct {
	Replicas             *int          `yaml:"replicas,omitempty"`
	RevisionHistoryLimit *int          `yaml:"revisionHistoryLimit,omitempty"`
	Selector             LabelSelector `yaml:"selector"`
	Strategy             *Strategy     `yaml:"strategy,omitempty"`
	Template             PodTemplate   `yaml:"template"`
}

// Strategy is a Deployment's update strategy.
type Strategy struct {
	Type          string         `yaml:"type"`
	RollingUpdate *RollingUpdate `yaml:"rollingUpdate,omitempty"`
}

// RollingUpdate bounds a rolling update.
type RollingUpdate struct {
	MaxUnavailable IntOrString `yaml:"maxUnavailable"`
	MaxSurge       IntOrString `yaml:"maxSurge"`
}

// PodTemplate is a Deployment's pod template.
type PodTemplate struct {
	Metadata Meta    `yaml:"metadata"`
	Spec     PodSpec `yaml:"spec"`
}

// PodSpec is a pod's spec.
type PodSpec struct {
	AutomountServiceAccountToken  *bool                      `yaml:"automountServiceAccountToken,omitempty"`
	EnableServiceLinks            *bool                      `yaml:"enableServiceLinks,omitempty"`
	TerminationGracePeriodSeconds *int                       `yaml:"terminationGracePeriodSeconds,omitempty"`
	SecurityContext               *PodSecurityContext        `yaml:"securityContext,omitempty"`
	TopologySpreadConstraints     []TopologySpreadConstraint `yaml:"topologySpreadConstraints,omitempty"`
	Containers                    []Container                `yaml:"containers"`
	Volumes                       []Volume                   `yaml:"volumes,omitempty"`
}

// PodSecurityContext is a pod's security context.
type PodSecurityContext struct {
	RunAsNonRoot   *bool           `yaml:"runAsNonRoot,omitempty"`
	RunAsUser      *int            `yaml:"runAsUser,omitempty"`
	RunAsGroup     *int            `yaml:"runAsGroup,omitempty"`
	FSGroup        *int            `yaml:"fsGroup,omitempty"`
	SeccompProfile *SeccompProfile `yaml:"seccompProfile,omitempty"`
}

// SeccompProfile names a seccomp profile.
type SeccompProfile struct {
	Type string `yaml:"type"`
}

// TopologySpreadConstraint spreads a Deployment's pods.
type TopologySpreadConstraint struct {
	MaxSkew           int           `yaml:"maxSkew"`
	TopologyKey       string        `yaml:"topologyKey"`
	WhenUnsatisfiable string        `yaml:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `yaml:"labelSelector"`
}

// Container is one container of a pod.
type Container struct {
	Name            string                    `yaml:"name"`
	Image           string                    `yaml:"image"`
	Ports           []ContainerPort           `yaml:"ports,omitempty"`
	Env             []EnvVar                  `yaml:"env,omitempty"`
	EnvFrom         []yaml.Node               `yaml:"envFrom,omitempty"`
	Resources       *Resources                `yaml:"resources,omitempty"`
	StartupProbe    *Probe                    `yaml:"startupProbe,omitempty"`
	LivenessProbe   *Probe                    `yaml:"livenessProbe,omitempty"`
	ReadinessProbe  *Probe                    `yaml:"readinessProbe,omitempty"`
	SecurityContext *ContainerSecurityContext `yaml:"securityContext,omitempty"`
	VolumeMounts    []VolumeMount             `yaml:"volumeMounts,omitempty"`
}

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	Name          string `yaml:"name,omitempty"`
	ContainerPort int    `yaml:"containerPort"`
	Protocol      string `yaml:"protocol,omitempty"`
}

// EnvVar is one environment variable: a value, or where to read it from.
type EnvVar struct {
	Name      string        `yaml:"name"`
	Value     string        `yaml:"value,omitempty"`
	ValueFrom *EnvVarSource `yaml:"valueFrom,omitempty"`
}

// EnvVarSource says where a variable's value comes from.
type EnvVarSource struct {
	FieldRef         *FieldRef         `yaml:"fieldRef,omitempty"`
	ResourceFieldRef *ResourceFieldRef `yaml:"resourceFieldRef,omitempty"`
	SecretKeyRef     *KeyRef           `yaml:"secretKeyRef,omitempty"`
	ConfigMapKeyRef  *KeyRef           `yaml:"configMapKeyRef,omitempty"`
}

// FieldRef reads a field of the pod.
type FieldRef struct {
	FieldPath string `yaml:"fieldPath"`
}

// ResourceFieldRef reads a resource of the container.
type ResourceFieldRef struct {
	Resource string `yaml:"resource"`
}

// KeyRef reads a key of a Secret or ConfigMap.
type KeyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests map[string]string `yaml:"requests,omitempty"`
	Limits   map[string]string `yaml:"limits,omitempty"`
}

// Probe is a liveness, readiness or startup probe.
type Probe struct {
	HTTPGet             *HTTPGetAction `yaml:"httpGet,omitempty"`
	GRPC                *GRPCAction    `yaml:"grpc,omitempty"`
	TCPSocket           *yaml.Node     `yaml:"tcpSocket,omitempty"`
	Exec                *yaml.Node     `yaml:"exec,omitempty"`
	InitialDelaySeconds int            `yaml:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int            `yaml:"periodSeconds,omitempty"`
	TimeoutSeconds      int            `yaml:"timeoutSeconds,omitempty"`
	SuccessThreshold    int            `yaml:"successThreshold,omitempty"`
	FailureThreshold    int            `yaml:"failureThreshold,omitempty"`
}

// HTTPGetAction is an HTTP probe.
type HTTPGetAction struct {
	Path   string      `yaml:"path"`
	Port   IntOrString `yaml:"port"`
	Scheme string      `yaml:"scheme,omitempty"`
}

// GRPCAction is a gRPC health probe (grpc.health.v1). Its port is a number: the
// Kubernetes API takes no port name here.
type GRPCAction struct {
	Port    int    `yaml:"port"`
	Service string `yaml:"service,omitempty"`
}

// ContainerSecurityContext is a container's security context.
type ContainerSecurityContext struct {
	RunAsNonRoot             *bool         `yaml:"runAsNonRoot,omitempty"`
	AllowPrivilegeEscalation *bool         `yaml:"allowPrivilegeEscalation,omitempty"`
	ReadOnlyRootFilesystem   *bool         `yaml:"readOnlyRootFilesystem,omitempty"`
	Capabilities             *Capabilities `yaml:"capabilities,omitempty"`
}

// Capabilities are the Linux capabilities dropped or added.
type Capabilities struct {
	Drop []string `yaml:"drop,omitempty"`
}

// VolumeMount mounts a volume into a container.
type VolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

// Volume is a pod's volume.
type Volume struct {
	Name                  string                    `yaml:"name"`
	EmptyDir              *EmptyDir                 `yaml:"emptyDir,omitempty"`
	PersistentVolumeClaim *PersistentVolumeClaimRef `yaml:"persistentVolumeClaim,omitempty"`
	Secret                *SecretVolume             `yaml:"secret,omitempty"`
}

// EmptyDir is a scratch volume.
type EmptyDir struct {
	SizeLimit string `yaml:"sizeLimit,omitempty"`
}

// PersistentVolumeClaimRef mounts a claim.
type PersistentVolumeClaimRef struct {
	ClaimName string `yaml:"claimName"`
}

// SecretVolume mounts a Secret's keys as files.
type SecretVolume struct {
	SecretName string `yaml:"secretName"`
}

// Service is a core/v1 Service.
type Service struct {
	Header `yaml:",inline"`
	Spec   ServiceSpec `yaml:"spec"`
}

// ServiceSpec is a Service's spec.
type ServiceSpec struct {
	Type     string            `yaml:"type,omitempty"`
	Selector map[string]string `yaml:"selector"`
	Ports    []ServicePort     `yaml:"ports"`
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name       string      `yaml:"name,omitempty"`
	Port       int         `yaml:"port"`
	TargetPort IntOrString `yaml:"targetPort,omitempty"`
	Protocol   string      `yaml:"protocol,omitempty"`
}

// NetworkPolicy is a networking.k8s.io/v1 NetworkPolicy.
type NetworkPolicy struct {
	Header `yaml:",inline"`
	Spec   NetworkPolicySpec `yaml:"spec"`
}

// NetworkPolicySpec is a NetworkPolicy's spec.
type NetworkPolicySpec struct {
	PodSelector LabelSelector       `yaml:"podSelector"`
	PolicyTypes []string            `yaml:"policyTypes"`
	Ingress     []NetworkPolicyRule `yaml:"ingress"`
}

// NetworkPolicyRule lets some peers reach some ports.
type NetworkPolicyRule struct {
	From  []NetworkPolicyPeer `yaml:"from,omitempty"`
	Ports []NetworkPolicyPort `yaml:"ports"`
}

// NetworkPolicyPeer is who may connect.
type NetworkPolicyPeer struct {
	NamespaceSelector *LabelSelector `yaml:"namespaceSelector,omitempty"`
	PodSelector       *LabelSelector `yaml:"podSelector,omitempty"`
	IPBlock           *IPBlock       `yaml:"ipBlock,omitempty"`
}

// IPBlock is a CIDR.
type IPBlock struct {
	CIDR string `yaml:"cidr"`
}

// NetworkPolicyPort is a port a rule opens.
type NetworkPolicyPort struct {
	Protocol string      `yaml:"protocol,omitempty"`
	Port     IntOrString `yaml:"port"`
}

// PodDisruptionBudget is a policy/v1 PodDisruptionBudget.
type PodDisruptionBudget struct {
	Header `yaml:",inline"`
	Spec   PodDisruptionBudgetSpec `yaml:"spec"`
}

// PodDisruptionBudgetSpec is a PodDisruptionBudget's spec.
type PodDisruptionBudgetSpec struct {
	MaxUnavailable IntOrString   `yaml:"maxUnavailable"`
	Selector       LabelSelector `yaml:"selector"`
}

// PodMonitor is a monitoring.coreos.com/v1 PodMonitor (the Prometheus Operator's).
type PodMonitor struct {
	Header `yaml:",inline"`
	Spec   PodMonitorSpec `yaml:"spec"`
}

// PodMonitorSpec is a PodMonitor's spec.
type PodMonitorSpec struct {
	Selector            LabelSelector        `yaml:"selector"`
	PodMetricsEndpoints []PodMetricsEndpoint `yaml:"podMetricsEndpoints"`
}

// PodMetricsEndpoint is one scrape endpoint of a pod.
type PodMetricsEndpoint struct {
	Port          string `yaml:"port"`
	Path          string `yaml:"path"`
	Interval      string `yaml:"interval,omitempty"`
	ScrapeTimeout string `yaml:"scrapeTimeout,omitempty"`
}

// ServiceMonitor is a monitoring.coreos.com/v1 ServiceMonitor (the Prometheus
// Operator's): it scrapes the pods behind the Services its selector matches. Paved
// writes none (a Service must not carry the admin port); [Check] reads one a team
// wrote.
type ServiceMonitor struct {
	Header `yaml:",inline"`
	Spec   ServiceMonitorSpec `yaml:"spec"`
}

// ServiceMonitorSpec is a ServiceMonitor's spec.
type ServiceMonitorSpec struct {
	Selector  LabelSelector            `yaml:"selector"`
	Endpoints []ServiceMonitorEndpoint `yaml:"endpoints"`
}

// ServiceMonitorEndpoint is one scrape endpoint: a Service port by name, or the
// pods' target port.
type ServiceMonitorEndpoint struct {
	Port       string      `yaml:"port,omitempty"`
	TargetPort IntOrString `yaml:"targetPort,omitempty"`
	Path       string      `yaml:"path,omitempty"`
}

// PersistentVolumeClaim is a core/v1 PersistentVolumeClaim.
type PersistentVolumeClaim struct {
	Header `yaml:",inline"`
	Spec   PersistentVolumeClaimSpec `yaml:"spec"`
}

// PersistentVolumeClaimSpec is a claim's spec.
type PersistentVolumeClaimSpec struct {
	AccessModes []string  `yaml:"accessModes"`
	Resources   Resources `yaml:"resources"`
}
