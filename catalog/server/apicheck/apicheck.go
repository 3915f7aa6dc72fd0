package apicheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paved-road/paved/catalog"
)

// Check returns the changes of definition next that break the consumers of definition
// prev, both of kind kind, in a stable order: at most [catalog.MaxBreakingChanges],
// each message clipped to [catalog.MaxMetadataValue] bytes. It fails when either
// definition cannot be read, naming which.
func Check(kind catalog.APIKind, prev, next []byte) ([]catalog.BreakingChange, error) {
	var out []catalog.BreakingChange
	var err error
	switch kind {
	case catalog.APIKindOpenAPI:
		out, err = checkOpenAPI(prev, next)
	case catalog.APIKindGRPC:
		out, err = checkProto(prev, next)
	case catalog.APIKindAsyncAPI:
		out, err = checkAsyncAPI(prev, next)
	default:
		return nil, fmt.Errorf("apicheck: unknown API kind %q (valid: openapi, grpc, asyncapi)", catalog.Clip(string(kind)))
	}
	if err != nil {
		return nil, err
	}
	if len(out) > catalog.MaxBreakingChanges {
		out = out[:catalog.MaxBreakingChanges]
	}
	for i := range out {
		out[i].Message = clip(out[i].Message, catalog.MaxMetadataValue)
		out[i].Operation = clip(out[i].Operation, 512)
	}
	return out, nil
}

// which names the definition an error is about.
func which(prevErr, nextErr error) error {
	switch {
	case prevErr != nil && nextErr != nil:
		return errors.Join(fmt.Errorf("previous definition: %w", prevErr), fmt.Errorf("new definition: %w", nextErr))
	case prevErr != nil:
		return fmt.Errorf("previous definition: %w", prevErr)
	case nextErr != nil:
		return fmt.Errorf("new definition: %w", nextErr)
	}
	return nil
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
