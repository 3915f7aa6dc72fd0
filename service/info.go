package service

import (
	"runtime"
	"runtime/debug"
	"time"

	"github.com/paved-road/paved/catalog"
)

// Info is a service's identity and the catalog metadata it registers with: who owns it,
// what it is, how critical it is, and where to read more. The catalog and the compliance
// rules read it; keep it in the service's main package, next to the code it describes.
type Info struct {
	// Name is the component name, a DNS label (lower-case letters, digits, '-'; 1–63
	// characters). SERVICE_NAME overrides it.
	Name string `json:"name"`
	// Version is the version of this build. SERVICE_VERSION overrides it; when both are
	// empty the main module's version from the build information is used, else "devel".
	Version string `json:"version"`
	// Namespace groups components, such as a product or domain (service.namespace in
	// OpenTelemetry). Optional.
	Namespace string `json:"namespace,omitempty"`
	// Owner is the team that owns the component, as the catalog's tokens name it.
	Owner string `json:"owner"`
	// Description says in a sentence what the component does.
	Description string `json:"description"`
	// Type is the kind of component: service (the default), website, worker, library...
	Type string `json:"type,omitempty"`
	// Tier is how critical the component is, 1 (most) to 4 (least); 0 means unset.
	Tier int `json:"tier,omitempty"`
	// Lifecycle is experimental, production or deprecated.
	Lifecycle string `json:"lifecycle,omitempty"`
	// Links point to where people learn more about the component.
	Links Links `json:"links"`
	// DependsOn names the components this one calls.
	DependsOn []string `json:"dependsOn,omitempty"`
	// ProvidesAPIs names the APIs this component offers. The names of APIs and of the
	// gRPC services the service publishes join them; a name here without a contract
	// is declared only.
	ProvidesAPIs []string `json:"providesApis,omitempty"`
	// APIs are the contracts of the APIs this component offers, with their definitions
	// (an OpenAPI document embedded with go:embed...): served on the admin port at
	// /apis, described to the catalog at registration. See [API].
	APIs []API `json:"-"`
	// ConsumesAPIs names the APIs of other components this one calls, as their
	// providers name them in providesApis. The APIs its Paved clients name
	// (httptransport.WithAPI) are observed and reported beside them.
	ConsumesAPIs []string `json:"consumesApis,omitempty"`
	// Labels are free key/value pairs for filtering in the catalog.
	Labels map[string]string `json:"labels,omitempty"`
}

// Links are the component's URLs, http or https: [catalog.Links], the one Links type
// of Paved, so Info's links go to the catalog and to compliance as they are.
type Links = catalog.Links

// BuildInfo is what the binary knows about its own build.
type BuildInfo struct {
	// Module is the main module's path; ModuleVersion its version ("(devel)" for a
	// local build).
	Module, ModuleVersion string
	// Revision and RevisionTime come from the VCS stamp, when the build has one.
	Revision     string
	RevisionTime string
	// Modified reports a build from a work tree with uncommitted changes.
	Modified bool
	// GoVersion is the Go version the binary was built with.
	GoVersion string
}

// ReadBuildInfo reads the binary's build information with runtime/debug.
func ReadBuildInfo() BuildInfo {
	b := BuildInfo{GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module, b.ModuleVersion = bi.Main.Path, bi.Main.Version
	if bi.GoVersion != "" {
		b.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.RevisionTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// resolveVersion picks the version in force: the variable, Info, the module, "devel".
func resolveVersion(cfgVersion, infoVersion string, b BuildInfo) string {
	switch {
	case cfgVersion != "":
		return cfgVersion
	case infoVersion != "":
		return infoVersion
	case b.ModuleVersion != "" && b.ModuleVersion != "(devel)":
		return b.ModuleVersion
	}
	return "devel"
}

// infoDoc is the body of the admin /info endpoint.
type infoDoc struct {
	Info
	InstanceID   string    `json:"instanceId"`
	Environment  string    `json:"environment"`
	Revision     string    `json:"revision,omitempty"`
	RevisionTime string    `json:"revisionTime,omitempty"`
	Modified     bool      `json:"modified,omitempty"`
	GoVersion    string    `json:"goVersion"`
	Module       string    `json:"module,omitempty"`
	StartTime    time.Time `json:"startTime"`
	Uptime       string    `json:"uptime"`
	Addresses    addrDoc   `json:"addresses"`
	State        string    `json:"state"`
	// Extra sections other capabilities add (registration, breakers...).
	Extra map[string]any `json:"extra,omitempty"`
}

type addrDoc struct {
	HTTP  string `json:"http,omitempty"`
	Admin string `json:"admin,omitempty"`
	GRPC  string `json:"grpc,omitempty"`
}
