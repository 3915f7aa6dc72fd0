package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/service"
)

// The defaults of [Params].
const (
	DefaultReplicas            = 3
	DefaultMonitoringNamespace = "monitoring"
	DefaultDataSize            = "1Gi"
	// UID is the numeric user (and group) the images run as: the "nonroot" user of
	// distroless images, and no user in /etc/passwd is needed for a number.
	UID = 65532
	// secretsDir is where SecretFiles are mounted, one directory a Secret.
	secretsDir = "/var/run/secrets/paved"
	// graceMargin is added to the stop budget for terminationGracePeriodSeconds: the
	// signal's delivery and the process's exit.
	graceMargin = 3 * time.Second
)

// Params describes the service a set of manifests is for. Name and Image are
// required; every other zero field takes the default documented on it.
type Params struct {
	// Name is the component name, a DNS label: the name of every object and the
	// app.kubernetes.io/name label their selectors use.
	Name string
	// Namespace of every object; empty leaves it to kubectl's context.
	Namespace string
	// Image is the container image, such as registry.example.com/hello:1.4.2.
	Image string
	// Replicas; zero means 3, or 1 with DataDir (one writer of a bbolt file).
	Replicas int
	// Env are the service's variables, literal or read from elsewhere (a Secret's key,
	// a field of the pod), in order. Literal values are loaded as the service loads
	// them, so HTTP_ADDR, ADMIN_ADDR, GRPC_ADDR, START_TIMEOUT, DRAIN_DELAY and
	// SHUTDOWN_TIMEOUT (or their defaults) decide the ports, probes and grace period.
	Env []EnvVar
	// SecretFiles mount one key of a Secret each as a read-only file and set a
	// variable to its path (CATALOG_TOKENS_FILE, say).
	SecretFiles []SecretFile
	// DataDir, when set, is where a PersistentVolumeClaim named after the service is
	// mounted (the catalog's CATALOG_DATA_DIR). A Deployment with a claim runs one
	// replica with the Recreate strategy: a bbolt file has one writer.
	DataDir string
	// DataSize is the claim's size; empty means 1Gi.
	DataSize string
	// MonitoringNamespace is the namespace (its kubernetes.io/metadata.name label)
	// whose pods may scrape the admin port; empty means "monitoring".
	MonitoringNamespace string
	// NodeCIDR, when set, is the nodes' address range, let in to the admin port for
	// the kubelet's probes on network plugins that apply policies to traffic from the
	// node (most let it through without a rule).
	NodeCIDR string
	// CPURequest, MemoryRequest and MemoryLimit size the container; empty means 100m,
	// 64Mi and 256Mi. No CPU limit: throttling a Go service's garbage collector costs
	// more latency than it saves.
	CPURequest, MemoryRequest, MemoryLimit string
	// Known lists variables the service reads beyond service.Config and the OTEL_* and
	// Go runtime ones: its own settings, from its configuration reference.
	Known []string
}

// SecretFile mounts Key of Secret as a file whose path is given in the variable Env.
type SecretFile struct {
	Env, Secret, Key string
}

// ParseSecretFile reads "ENV=SECRET:KEY".
func ParseSecretFile(s string) (SecretFile, error) {
	env, ref, ok := strings.Cut(s, "=")
	secret, key, ok2 := strings.Cut(ref, ":")
	if !ok || !ok2 || env == "" || !catalog.IsDNSLabel(secret) || key == "" || strings.ContainsAny(key, "/ ") {
		return SecretFile{}, fmt.Errorf("%q: want VARIABLE=SECRET:KEY, such as CATALOG_TOKENS_FILE=catalog-tokens:tokens (SECRET a DNS label, KEY a file name)", s)
	}
	return SecretFile{Env: env, Secret: secret, Key: key}, nil
}

// ParseEnv reads "NAME=VALUE" as a literal variable, or "NAME=secret:SECRET:KEY" as one
// read from a Secret's key.
func ParseEnv(s string) (EnvVar, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return EnvVar{}, fmt.Errorf("%q: want NAME=VALUE, or NAME=secret:SECRET:KEY for a value from a Secret", s)
	}
	if ref, isSecret := strings.CutPrefix(value, "secret:"); isSecret {
		secret, key, ok := strings.Cut(ref, ":")
		if !ok || !catalog.IsDNSLabel(secret) || key == "" {
			return EnvVar{}, fmt.Errorf("%q: want NAME=secret:SECRET:KEY, such as CATALOG_TOKEN=secret:orders-catalog:token", s)
		}
		return EnvVar{Name: name, ValueFrom: &EnvVarSource{SecretKeyRef: &KeyRef{Name: secret, Key: key}}}, nil
	}
	return EnvVar{Name: name, Value: value}, nil
}

// Ports are the container ports a service listens on, from its addresses.
type Ports struct {
	HTTP, Admin, GRPC int // GRPC zero when GRPC_ADDR is unset
}

// Settings loads the literal variables of env as the service would (defaults filled
// in, every invalid value reported at once, as service.Load does), leaving out those
// read from elsewhere: their values are not known before the pod runs.
func Settings(env []EnvVar) (service.Config, error) {
	m := map[string]string{}
	from := map[string]bool{}
	for _, e := range env {
		if e.ValueFrom != nil {
			from[e.Name] = true
			continue
		}
		m[e.Name] = e.Value
	}
	cfg, err := service.Load[service.Config](service.WithEnviron(m))
	var ce *service.ConfigError
	if errors.As(err, &ce) {
		// A problem about a variable set from a Secret or the pod is one of a missing
		// value that is in fact given at run time.
		ps := slices.DeleteFunc(slices.Clone(ce.Problems), func(p service.Problem) bool { return from[p.Var] })
		if len(ps) == 0 {
			return cfg, nil
		}
		return cfg, &service.ConfigError{Problems: ps}
	}
	return cfg, err
}

// PortsOf returns the ports of the addresses in cfg.
func PortsOf(cfg service.Config) (Ports, error) {
	var p Ports
	var errs []error
	port := func(name, addr string) int {
		if addr == "" {
			return 0
		}
		_, ps, err := net.SplitHostPort(addr)
		n, perr := strconv.Atoi(ps)
		if err != nil || perr != nil || n <= 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q: a container needs a fixed port, such as :8080", name, addr))
			return 0
		}
		return n
	}
	p.HTTP = port("HTTP_ADDR", cfg.HTTPAddr)
	p.Admin = port("ADMIN_ADDR", cfg.AdminAddr)
	p.GRPC = port("GRPC_ADDR", cfg.GRPCAddr)
	return p, errors.Join(errs...)
}

// Validate checks p, naming every problem with its flag.
func (p *Params) Validate() error {
	var errs []error
	if !catalog.IsDNSLabel(p.Name) {
		errs = append(errs, fmt.Errorf("--name %q is not a DNS label: 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit", p.Name))
	}
	if p.Namespace != "" && !catalog.IsDNSLabel(p.Namespace) {
		errs = append(errs, fmt.Errorf("--namespace %q is not a DNS label", p.Namespace))
	}
	if p.Image == "" || strings.ContainsAny(p.Image, " \t\n") {
		errs = append(errs, fmt.Errorf("--image %q: want an image reference, such as registry.example.com/%s:1.0.0", p.Image, p.Name))
	}
	if p.Replicas < 0 || (p.DataDir != "" && p.Replicas > 1) {
		errs = append(errs, fmt.Errorf("--replicas %d: want 1 or more, and 1 with --data (a bbolt file has one writer)", p.Replicas))
	}
	if p.DataDir != "" && !path.IsAbs(p.DataDir) {
		errs = append(errs, fmt.Errorf("--data %q: want an absolute path, such as /var/lib/%s", p.DataDir, p.Name))
	}
	if p.NodeCIDR != "" {
		if _, _, err := net.ParseCIDR(p.NodeCIDR); err != nil {
			errs = append(errs, fmt.Errorf("--node-cidr %q: want a CIDR, such as 10.0.0.0/16", p.NodeCIDR))
		}
	}
	seen := map[string]bool{}
	for _, e := range p.Env {
		if seen[e.Name] {
			errs = append(errs, fmt.Errorf("--env %s is given twice", e.Name))
		}
		seen[e.Name] = true
	}
	for _, f := range p.SecretFiles {
		if seen[f.Env] {
			errs = append(errs, fmt.Errorf("--secret-file %s is also given by --env", f.Env))
		}
		seen[f.Env] = true
	}
	known := NewKnown(p.Known)
	for _, e := range p.Env {
		if err := known.Check(e.Name); err != nil {
			errs = append(errs, fmt.Errorf("--env %w", err))
		}
	}
	for _, f := range p.SecretFiles {
		if err := known.Check(f.Env); err != nil {
			errs = append(errs, fmt.Errorf("--secret-file %w", err))
		}
	}
	return errors.Join(errs...)
}

// File is one manifest file of a set.
type File struct {
	Name    string // such as deployment.yaml
	Content []byte
}

// Generate writes the manifests of a service: Deployment, Service (the public ports
// only), NetworkPolicy, PodDisruptionBudget, PodMonitor and, with DataDir, a
// PersistentVolumeClaim. The ports, probes and grace period follow the service's own
// settings, loaded from p.Env as the service loads them.
func Generate(p Params) ([]File, error) {
	verr := p.Validate()
	env := slices.Clone(p.Env)
	for _, f := range p.SecretFiles {
		env = append(env, EnvVar{Name: f.Env, Value: path.Join(secretsDir, f.Secret, f.Key)})
	}
	cfg, serr := Settings(env)
	ports, perr := PortsOf(cfg)
	if err := errors.Join(verr, serr, perr); err != nil {
		return nil, err
	}
	replicas := p.Replicas
	if replicas == 0 {
		replicas = DefaultReplicas
		if p.DataDir != "" {
			replicas = 1
		}
	}
	labels := map[string]string{"app.kubernetes.io/name": p.Name}
	meta := func(name string) Meta {
		return Meta{Name: name, Namespace: p.Namespace, Labels: labels}
	}
	hdr := func(apiVersion, kind string) Header {
		return Header{APIVersion: apiVersion, Kind: kind, Metadata: meta(p.Name)}
	}
	sel := LabelSelector{MatchLabels: labels}

	// The container.
	c := Container{Name: p.Name, Image: p.Image}
	c.Ports = append(c.Ports, ContainerPort{Name: "http", ContainerPort: ports.HTTP, Protocol: "TCP"})
	if ports.GRPC != 0 {
		c.Ports = append(c.Ports, ContainerPort{Name: "grpc", ContainerPort: ports.GRPC, Protocol: "TCP"})
	}
	c.Ports = append(c.Ports, ContainerPort{Name: "admin", ContainerPort: ports.Admin, Protocol: "TCP"})
	c.Env = []EnvVar{
		{Name: "SERVICE_INSTANCE_ID", ValueFrom: &EnvVarSource{FieldRef: &FieldRef{FieldPath: "metadata.name"}}},
		{Name: "ADVERTISE_HOST", ValueFrom: &EnvVarSource{FieldRef: &FieldRef{FieldPath: "status.podIP"}}},
		{Name: "GOMEMLIMIT", ValueFrom: &EnvVarSource{ResourceFieldRef: &ResourceFieldRef{Resource: "limits.memory"}}},
	}
	c.Env = slices.DeleteFunc(c.Env, func(d EnvVar) bool {
		return slices.ContainsFunc(env, func(e EnvVar) bool { return e.Name == d.Name })
	})
	c.Env = append(c.Env, env...)
	c.Resources = &Resources{
		Requests: map[string]string{"cpu": or(p.CPURequest, "100m"), "memory": or(p.MemoryRequest, "64Mi")},
		Limits:   map[string]string{"memory": or(p.MemoryLimit, "256Mi")},
	}
	// Probes: the admin port answers within ProbeWait (800ms), inside the kubelet's 1s.
	startupPeriod := 1
	c.StartupProbe = &Probe{HTTPGet: &HTTPGetAction{Path: "/startupz", Port: Str("admin")}, PeriodSeconds: startupPeriod,
		TimeoutSeconds: 1, FailureThreshold: int(math.Ceil(cfg.StartTimeout.Seconds()/float64(startupPeriod))) + 5}
	c.LivenessProbe = &Probe{HTTPGet: &HTTPGetAction{Path: "/livez", Port: Str("admin")}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3}
	c.ReadinessProbe = &Probe{HTTPGet: &HTTPGetAction{Path: "/readyz", Port: Str("admin")}, PeriodSeconds: 2, TimeoutSeconds: 1, FailureThreshold: 1}
	if ports.GRPC != 0 {
		// The gRPC server's own health service, readiness set: a wedged gRPC server
		// leaves the endpoints even when the admin server answers.
		c.ReadinessProbe = &Probe{GRPC: &GRPCAction{Port: ports.GRPC, Service: "readiness"}, PeriodSeconds: 2, TimeoutSeconds: 1, FailureThreshold: 1}
	}
	c.SecurityContext = &ContainerSecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
		Capabilities: &Capabilities{Drop: []string{"ALL"}}}
	c.VolumeMounts = []VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	volumes := []Volume{{Name: "tmp", EmptyDir: &EmptyDir{SizeLimit: "64Mi"}}}
	if p.DataDir != "" {
		c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: "data", MountPath: p.DataDir})
		volumes = append(volumes, Volume{Name: "data", PersistentVolumeClaim: &PersistentVolumeClaimRef{ClaimName: p.Name + "-data"}})
	}
	for _, f := range p.SecretFiles {
		if slices.ContainsFunc(volumes, func(v Volume) bool { return v.Secret != nil && v.Secret.SecretName == f.Secret }) {
			continue
		}
		c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: "secret-" + f.Secret, MountPath: path.Join(secretsDir, f.Secret), ReadOnly: true})
		volumes = append(volumes, Volume{Name: "secret-" + f.Secret, Secret: &SecretVolume{SecretName: f.Secret}})
	}

	grace := int(math.Ceil((service.StopBudget(cfg) + graceMargin).Seconds()))
	dep := Deployment{Header: hdr("apps/v1", "Deployment")}
	dep.Spec = DeploymentSpec{Replicas: &replicas, RevisionHistoryLimit: ptr(5), Selector: sel}
	if p.DataDir != "" {
		dep.Spec.Strategy = &Strategy{Type: "Recreate"}
	} else {
		dep.Spec.Strategy = &Strategy{Type: "RollingUpdate", RollingUpdate: &RollingUpdate{MaxUnavailable: Int(0), MaxSurge: Int(1)}}
	}
	dep.Spec.Template = PodTemplate{Metadata: Meta{Labels: labels}, Spec: PodSpec{
		AutomountServiceAccountToken:  ptr(false),
		EnableServiceLinks:            ptr(false),
		TerminationGracePeriodSeconds: &grace,
		SecurityContext: &PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(UID), RunAsGroup: ptr(UID), FSGroup: ptr(UID),
			SeccompProfile: &SeccompProfile{Type: "RuntimeDefault"}},
		TopologySpreadConstraints: []TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: sel},
			{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: sel},
		},
		Containers: []Container{c},
		Volumes:    volumes,
	}}

	svc := Service{Header: hdr("v1", "Service")}
	svc.Spec = ServiceSpec{Selector: labels, Ports: []ServicePort{{Name: "http", Port: ports.HTTP, TargetPort: Str("http"), Protocol: "TCP"}}}
	if ports.GRPC != 0 {
		svc.Spec.Ports = append(svc.Spec.Ports, ServicePort{Name: "grpc", Port: ports.GRPC, TargetPort: Str("grpc"), Protocol: "TCP"})
	}

	np := NetworkPolicy{Header: hdr("networking.k8s.io/v1", "NetworkPolicy")}
	public := []NetworkPolicyPort{{Protocol: "TCP", Port: Int(ports.HTTP)}}
	if ports.GRPC != 0 {
		public = append(public, NetworkPolicyPort{Protocol: "TCP", Port: Int(ports.GRPC)})
	}
	adminPeers := []NetworkPolicyPeer{{NamespaceSelector: &LabelSelector{MatchLabels: map[string]string{
		"kubernetes.io/metadata.name": or(p.MonitoringNamespace, DefaultMonitoringNamespace)}}}}
	if p.NodeCIDR != "" {
		adminPeers = append(adminPeers, NetworkPolicyPeer{IPBlock: &IPBlock{CIDR: p.NodeCIDR}})
	}
	np.Spec = NetworkPolicySpec{PodSelector: sel, PolicyTypes: []string{"Ingress"}, Ingress: []NetworkPolicyRule{
		{Ports: public},
		{From: adminPeers, Ports: []NetworkPolicyPort{{Protocol: "TCP", Port: Int(ports.Admin)}}},
	}}

	pdb := PodDisruptionBudget{Header: hdr("policy/v1", "PodDisruptionBudget"), Spec: PodDisruptionBudgetSpec{MaxUnavailable: Int(1), Selector: sel}}

	pm := PodMonitor{Header: hdr("monitoring.coreos.com/v1", "PodMonitor"), Spec: PodMonitorSpec{Selector: sel,
		PodMetricsEndpoints: []PodMetricsEndpoint{{Port: "admin", Path: "/metrics", Interval: "30s", ScrapeTimeout: "10s"}}}}

	type obj struct {
		file string
		v    any
	}
	objs := []obj{{"deployment.yaml", dep}, {"service.yaml", svc}, {"networkpolicy.yaml", np}, {"poddisruptionbudget.yaml", pdb}, {"podmonitor.yaml", pm}}
	if p.DataDir != "" {
		pvc := PersistentVolumeClaim{Header: Header{APIVersion: "v1", Kind: "PersistentVolumeClaim", Metadata: meta(p.Name + "-data")},
			Spec: PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteOnce"}, Resources: Resources{Requests: map[string]string{"storage": or(p.DataSize, DefaultDataSize)}}}}
		objs = append(objs, obj{"persistentvolumeclaim.yaml", pvc})
	}
	files := make([]File, 0, len(objs))
	for _, o := range objs {
		b, err := marshal(o.v)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: o.file, Content: append([]byte(header), b...)})
	}
	return files, nil
}

// header heads every generated file.
const header = "# Generated by paved manifests; paved check --manifests checks it against the service's settings.\n"

// Join returns files as one multi-document YAML stream.
func Join(files []File) []byte {
	var b bytes.Buffer
	for i, f := range files {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(bytes.TrimPrefix(f.Content, []byte(header)))
	}
	return b.Bytes()
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
