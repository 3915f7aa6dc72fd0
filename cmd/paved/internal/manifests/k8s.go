package manifests

import (
	"io/fs"

	"github.com/paved-road/paved/internal/k8s"
)

// The Kubernetes objects Paved writes and checks have their one home in package
// internal/k8s, which a running service told where its manifests are shares
// (compliance/k8sfacts); the names below let this package write them as its own.
type (
	Meta                      = k8s.Meta
	Header                    = k8s.Header
	IntOrString               = k8s.IntOrString
	LabelSelector             = k8s.LabelSelector
	Deployment                = k8s.Deployment
	DeploymentSpec            = k8s.DeploymentSpec
	Strategy                  = k8s.Strategy
	RollingUpdate             = k8s.RollingUpdate
	PodTemplate               = k8s.PodTemplate
	PodSpec                   = k8s.PodSpec
	PodSecurityContext        = k8s.PodSecurityContext
	SeccompProfile            = k8s.SeccompProfile
	TopologySpreadConstraint  = k8s.TopologySpreadConstraint
	Container                 = k8s.Container
	ContainerPort             = k8s.ContainerPort
	EnvVar                    = k8s.EnvVar
	EnvVarSource              = k8s.EnvVarSource
	FieldRef                  = k8s.FieldRef
	ResourceFieldRef          = k8s.ResourceFieldRef
	KeyRef                    = k8s.KeyRef
	Resources                 = k8s.Resources
	Probe                     = k8s.Probe
	HTTPGetAction             = k8s.HTTPGetAction
	GRPCAction                = k8s.GRPCAction
	ContainerSecurityContext  = k8s.ContainerSecurityContext
	Capabilities              = k8s.Capabilities
	VolumeMount               = k8s.VolumeMount
	Volume                    = k8s.Volume
	EmptyDir                  = k8s.EmptyDir
	PersistentVolumeClaimRef  = k8s.PersistentVolumeClaimRef
	SecretVolume              = k8s.SecretVolume
	Service                   = k8s.Service
	ServiceSpec               = k8s.ServiceSpec
	ServicePort               = k8s.ServicePort
	NetworkPolicy             = k8s.NetworkPolicy
	NetworkPolicySpec         = k8s.NetworkPolicySpec
	NetworkPolicyRule         = k8s.NetworkPolicyRule
	NetworkPolicyPeer         = k8s.NetworkPolicyPeer
	IPBlock                   = k8s.IPBlock
	NetworkPolicyPort         = k8s.NetworkPolicyPort
	PodDisruptionBudget       = k8s.PodDisruptionBudget
	PodDisruptionBudgetSpec   = k8s.PodDisruptionBudgetSpec
	PodMonitor                = k8s.PodMonitor
	PodMonitorSpec            = k8s.PodMonitorSpec
	PodMetricsEndpoint        = k8s.PodMetricsEndpoint
	ServiceMonitor            = k8s.ServiceMonitor
	ServiceMonitorSpec        = k8s.ServiceMonitorSpec
	ServiceMonitorEndpoint    = k8s.ServiceMonitorEndpoint
	PersistentVolumeClaim     = k8s.PersistentVolumeClaim
	PersistentVolumeClaimSpec = k8s.PersistentVolumeClaimSpec
)

// Int returns a number IntOrString.
func Int(n int) IntOrString { return k8s.Int(n) }

// Str returns a named IntOrString.
func Str(s string) IntOrString { return k8s.Str(s) }

// Document is one YAML document of a manifest file.
type Document = k8s.Document

// ReadDir reads every *.yaml and *.yml file of fsys, each document of each.
func ReadDir(fsys fs.FS) ([]Document, error) { return k8s.ReadDir(fsys) }

// Parse splits b, the content of file, into its documents; empty ones are dropped.
func Parse(file string, b []byte) ([]Document, error) { return k8s.Parse(file, b) }
