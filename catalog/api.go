package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// APIKind is the kind of contract an API publishes. Its values are the spec.type values
// of Backstage's API entities, so an export carries them as they are.
type APIKind string

// The kinds of API a component may publish.
const (
	// APIKindOpenAPI is an HTTP API described by an OpenAPI 3 document.
	APIKindOpenAPI APIKind = "openapi"
	// APIKindGRPC is a gRPC service described by a protobuf FileDescriptorSet (the file
	// that defines the service and the files it imports), as server reflection serves it.
	APIKindGRPC APIKind = "grpc"
	// APIKindAsyncAPI is an event API (the subjects a component publishes or consumes and
	// their message schemas) described by an AsyncAPI 3 document.
	APIKindAsyncAPI APIKind = "asyncapi"
)

// Valid reports whether k is one of the defined kinds.
func (k APIKind) Valid() bool {
	return k == APIKindOpenAPI || k == APIKindGRPC || k == APIKindAsyncAPI
}

// MediaType returns the media type of a definition of kind k: the OpenAPI and AsyncAPI
// documents' registered JSON types, and protobuf for a FileDescriptorSet.
func (k APIKind) MediaType() string {
	switch k {
	case APIKindOpenAPI:
		return MediaTypeOpenAPI
	case APIKindGRPC:
		return MediaTypeFileDescriptorSet
	case APIKindAsyncAPI:
		return MediaTypeAsyncAPI
	}
	return "application/octet-stream"
}

// Media types of API definitions.
const (
	MediaTypeOpenAPI           = "application/vnd.oai.openapi+json"
	MediaTypeAsyncAPI          = "application/vnd.aai.asyncapi+json"
	MediaTypeFileDescriptorSet = `application/x-protobuf; messageType="google.protobuf.FileDescriptorSet"`
)

// MaxAPIDefinitionBytes bounds the size of one API definition.
const MaxAPIDefinitionBytes = 4 << 20

// APINameRule says what [IsAPIName] accepts, for error messages.
const APINameRule = "1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"

// IsAPIName reports whether s is a valid API name (see [APINameRule]), such as
// "orders-http-v1" or "shop.orders.v1.Orders". It is the rule of providesApis,
// consumesApis and [API.Name].
func IsAPIName(s string) bool { return isLabelName(s) }

// API describes one API a component provides: its name, kind and the digest and size of
// its definition. The definition itself is not in the registration (it may be larger than
// a registration body may be): the instance serves it on its admin address at
// /apis/{name}, and the digest says which version it is.
type API struct {
	// Name names the API (see [IsAPIName]); it is also listed in the component's
	// providesApis. Required.
	Name string `json:"name"`
	// Kind is the kind of contract. Required.
	Kind APIKind `json:"kind"`
	// MediaType is the definition's media type, such as [MediaTypeOpenAPI]. Required;
	// [APIKind.MediaType] gives the usual one.
	MediaType string `json:"mediaType"`
	// Version is the API's own version when its definition states one (an OpenAPI
	// document's info.version): 1-128 printable ASCII characters without spaces.
	// Optional.
	Version string `json:"version,omitempty"`
	// Digest identifies the definition's bytes: "sha256:" and 64 lower-case hex digits
	// ([Digest]). Required.
	Digest string `json:"digest"`
	// Size is the definition's length in bytes, 1 to [MaxAPIDefinitionBytes]. Required.
	Size int `json:"size"`
}

// Digest returns the digest of an API definition: "sha256:" and the hex SHA-256 of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// isDigest reports whether s has the form Digest returns.
func isDigest(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isMediaType reports whether s looks like a media type: type/subtype and optional
// parameters, printable ASCII, at most 255 bytes.
func isMediaType(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	t, _, _ := strings.Cut(s, ";")
	typ, sub, ok := strings.Cut(strings.TrimSpace(t), "/")
	return ok && typ != "" && sub != "" && !strings.ContainsAny(typ+sub, " /")
}

func checkAPI(p *problems, field string, a API) {
	if !IsAPIName(a.Name) {
		p.add(field+".name", "must be "+APINameRule+", got %q", Clip(a.Name))
	}
	if !a.Kind.Valid() {
		p.add(field+".kind", "must be one of openapi, grpc, asyncapi, got %q", Clip(string(a.Kind)))
	}
	if !isMediaType(a.MediaType) {
		p.add(field+".mediaType", "must be a media type such as %q, got %q", MediaTypeOpenAPI, Clip(a.MediaType))
	}
	if a.Version != "" && !isToken(a.Version) {
		p.add(field+".version", "must be 1-128 printable ASCII characters without spaces, got %q", Clip(a.Version))
	}
	if !isDigest(a.Digest) {
		p.add(field+".digest", "must be \"sha256:\" and 64 lower-case hex digits, got %q", Clip(a.Digest))
	}
	if a.Size < 1 || a.Size > MaxAPIDefinitionBytes {
		p.add(field+".size", "must be between 1 and %d bytes, got %d", MaxAPIDefinitionBytes, a.Size)
	}
}

// APIUse is an API a component calls: which API of which component, and how the
// catalog knows it.
type APIUse struct {
	// API names the API called (see [IsAPIName]); empty when only the provider is known
	// (a client built without an API name).
	API string `json:"api,omitempty"`
	// Provider names the component called, a DNS label; empty when only the API is
	// known (declared in consumesApis and called by no client that names it).
	Provider string `json:"provider,omitempty"`
	// Declared is true when the component declares the API in its consumesApis.
	Declared bool `json:"declared,omitempty"`
	// Observed is true when a client the running service built calls it.
	Observed bool `json:"observed,omitempty"`
}

func checkAPIUse(p *problems, field string, u APIUse, self string) {
	if u.API == "" && u.Provider == "" {
		p.add(field, "needs an api, a provider or both")
	}
	if u.API != "" && !IsAPIName(u.API) {
		p.add(field+".api", "must be "+APINameRule+", got %q", Clip(u.API))
	}
	if u.Provider != "" {
		checkDNSLabel(p, field+".provider", u.Provider)
		if u.Provider == self {
			p.add(field+".provider", "a component cannot consume its own API")
		}
	}
	if !u.Declared && !u.Observed {
		p.add(field, "must be declared, observed or both")
	}
}
