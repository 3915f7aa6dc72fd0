package core

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/paved-road/paved/catalog"
)

// CheckAPIVersion returns the [*catalog.ValidationError] of a version about to be
// stored: v's own problems, and a definition whose size or digest is not the one v
// states.
func CheckAPIVersion(v catalog.APIVersion, definition []byte) error {
	err := v.Validate()
	var errs []catalog.FieldError
	if ve, ok := err.(*catalog.ValidationError); ok {
		errs = ve.Errors
	} else if err != nil {
		return err
	}
	if len(definition) != v.Size {
		errs = append(errs, catalog.FieldError{Field: "definition", Message: fmt.Sprintf("must be %d bytes as size says, got %d", v.Size, len(definition))})
	} else if d := catalog.Digest(definition); d != v.Digest {
		errs = append(errs, catalog.FieldError{Field: "definition", Message: fmt.Sprintf("has digest %s, not %s as digest says", d, catalog.Clip(v.Digest))})
	}
	if len(errs) > 0 {
		return &catalog.ValidationError{Errors: errs}
	}
	return nil
}

// EncodeAPIVersion encodes a version for storage.
func EncodeAPIVersion(v catalog.APIVersion) ([]byte, error) { return json.Marshal(v) }

// DecodeAPIVersion decodes a stored version.
func DecodeAPIVersion(raw []byte) (catalog.APIVersion, error) {
	var v catalog.APIVersion
	if err := json.Unmarshal(raw, &v); err != nil {
		return catalog.APIVersion{}, fmt.Errorf("decode API version: %w", err)
	}
	return v, nil
}

// SortAPIVersions sorts vs by name, then PublishedAt, then digest: the order of
// [store.APIStore.APIVersions].
func SortAPIVersions(vs []catalog.APIVersion) {
	slices.SortFunc(vs, func(a, b catalog.APIVersion) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), a.PublishedAt.Compare(b.PublishedAt), cmp.Compare(a.Digest, b.Digest))
	})
}

// APINotFound returns the error of an API with no stored version, or of a version
// that is not stored.
func APINotFound(name, digest string) error {
	if digest == "" {
		return NotFound("API", name)
	}
	return NotFound("API version", name+"@"+digest)
}
