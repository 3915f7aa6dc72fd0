package store

import (
	"context"

	"github.com/paved-road/paved/catalog"
)

// APIStore keeps the versions of the APIs components publish, each with its
// definition, keyed by the API's name and the definition's digest. Versions outlive
// the components that published them (a consumer still needs the contract it was
// written against); they are never changed once stored.
type APIStore interface {
	// PutAPIVersion stores version v of an API with its definition, reporting whether
	// it was created: a version whose name and digest are stored already is left as it
	// is (created false, no error), whatever v says. v must be valid
	// ([catalog.APIVersion.Validate]) and definition must be v.Size bytes whose
	// [catalog.Digest] is v.Digest (else a [*catalog.ValidationError], and nothing is
	// written).
	PutAPIVersion(ctx context.Context, v catalog.APIVersion, definition []byte) (created bool, err error)
	// APIVersions returns the versions of the API name, oldest first (by PublishedAt,
	// then digest), or an error wrapping ErrNotFound when it has none. With name ""
	// it returns every version of every API, sorted by name, then as above.
	APIVersions(ctx context.Context, name string) ([]catalog.APIVersion, error)
	// APIDefinition returns the definition of version digest of the API name, or an
	// error wrapping ErrNotFound.
	APIDefinition(ctx context.Context, name, digest string) ([]byte, error)
}
