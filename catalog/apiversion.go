package catalog

import (
	"time"
	"unicode/utf8"
)

// APIVersion is one version of an API as the catalog keeps it: the descriptor a
// component registered (its digest names the version), who published it and when, and
// what the breaking-change check found against the version before it. The definition
// itself is stored beside it, keyed by the digest, and served at
// /api/v1/apis/{name}/definition.
type APIVersion struct {
	API
	// Provider is the component that first registered this version. Required.
	Provider string `json:"provider"`
	// PublishedAt is when the catalog first stored this version. Required.
	PublishedAt time.Time `json:"publishedAt"`
	// Previous is the digest of the version this one was checked against (the latest
	// version of the API when this one was stored); empty for the first version.
	Previous string `json:"previous,omitempty"`
	// Breaking lists the changes that break a consumer of Previous: at most
	// [MaxBreakingChanges]. Empty when there is no previous version or no breaking
	// change.
	Breaking []BreakingChange `json:"breaking,omitempty"`
	// CheckError says why the breaking-change check could not run (such as a
	// definition that does not parse); empty when it ran.
	CheckError string `json:"checkError,omitempty"`
}

// MaxBreakingChanges bounds [APIVersion.Breaking]; a check that finds more keeps the
// first ones.
const MaxBreakingChanges = 200

// BreakingChange is one change of an API definition that breaks its consumers, such as
// an OpenAPI operation or a gRPC method removed.
type BreakingChange struct {
	// ID names the kind of change: oasdiff's check id for OpenAPI
	// ("api-path-removed-without-deprecation"), or one of the protobuf checks
	// ("grpc-method-removed", "proto-field-removed"...). Required.
	ID string `json:"id"`
	// Operation is the part of the API the change is about: "GET /reservations" for
	// OpenAPI, "shop.inventory.v1.Inventory/Reserve" or a message's full name for
	// gRPC. Empty for a change to the document as a whole.
	Operation string `json:"operation,omitempty"`
	// Message says what changed, in one sentence of at most [MaxMetadataValue] bytes.
	// Required.
	Message string `json:"message"`
}

// Validate checks v and returns a [*ValidationError] listing every problem.
func (v APIVersion) Validate() error {
	var p problems
	checkAPI(&p, "api", v.API)
	checkDNSLabel(&p, "provider", v.Provider)
	if v.PublishedAt.IsZero() {
		p.add("publishedAt", "is required")
	}
	if v.Previous != "" && !isDigest(v.Previous) {
		p.add("previous", "must be \"sha256:\" and 64 lower-case hex digits, got %q", Clip(v.Previous))
	}
	if v.Previous == v.Digest && v.Previous != "" {
		p.add("previous", "must be another version than the digest itself")
	}
	if len(v.Breaking) > MaxBreakingChanges {
		p.add("breaking", "at most %d items, got %d", MaxBreakingChanges, len(v.Breaking))
	}
	for i, b := range v.Breaking {
		f := index("breaking", i)
		if b.ID == "" || len(b.ID) > 128 {
			p.add(f+".id", "must be 1-128 bytes, got %d", len(b.ID))
		}
		if len(b.Operation) > 512 {
			p.add(f+".operation", "must be at most 512 bytes, got %d", len(b.Operation))
		}
		if b.Message == "" || len(b.Message) > MaxMetadataValue || !utf8.ValidString(b.Message) {
			p.add(f+".message", "must be 1-%d bytes of UTF-8, got %d bytes", MaxMetadataValue, len(b.Message))
		}
	}
	if len(v.CheckError) > MaxMetadataValue {
		p.add("checkError", "must be at most %d bytes, got %d", MaxMetadataValue, len(v.CheckError))
	}
	return p.err()
}
