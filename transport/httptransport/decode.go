package httptransport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// DefaultMaxBodyBytes is the body limit of [DecodeJSON] when none is given.
const DefaultMaxBodyBytes = 1 << 20

// DecodeJSON decodes r's JSON body into v, a non-nil pointer, strictly. It refuses, each
// with a 400 [*Error] whose Fields name the offending value by its JSON path
// ("addresses.http", "labels[team]", "items[2].sku"):
//
//   - a field the type does not have; names match exactly, unlike encoding/json, which
//     folds case ("Name" is not "name");
//   - a key that appears twice in one object;
//   - a value of the wrong type, or out of range (a fraction or 1e400 for an int);
//   - null where Go has no nil (a string, number, bool, struct or array field; null is
//     accepted for pointers, slices, maps and interfaces);
//   - NUL (U+0000) in a string or key, invalid UTF-8, lone UTF-16 surrogates;
//   - objects and arrays nested deeper than [MaxJSONDepth];
//   - malformed JSON, an empty body, and data after the value.
//
// A body over maxBytes (0 means [DefaultMaxBodyBytes]) is a 413, a Content-Type other
// than application/json (or +json) a 415. A type that decodes itself (json.Unmarshaler)
// gets whatever JSON value the body holds, still under the rules on keys, strings and
// depth; time.Time must be an RFC 3339 string.
//
// The body is decoded with encoding/json once it has passed every rule, into a copy of
// *v (fields the body omits keep their values, as with encoding/json) that is stored in
// *v on success: a refused body leaves *v unchanged. (Maps and slices *v already holds
// are shared with the copy, so a type's own UnmarshalJSON failing may leave them
// partly filled.)
//
// The rules are those of encoding/json/v2's options (RejectUnknownMembers, duplicate
// names rejected, case-sensitive names) plus the NUL, null and depth rules. Go 1.26 has
// encoding/json/v2 only under GOEXPERIMENT=jsonv2, and a service's module graph must not
// hold github.com/go-json-experiment, so the rules are checked by a scan of the body of
// our own; when json/v2 leaves the experiment, the implementation switches to its
// options.
func DecodeJSON(r *http.Request, v any, maxBytes int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		mt = strings.TrimSpace(strings.ToLower(mt))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return &Error{Code: http.StatusUnsupportedMediaType, Msg: "Content-Type must be application/json, got " + mt}
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return BadRequest("request body is empty: a JSON value is required")
	}
	return DecodeJSONReader(r.Body, v, maxBytes)
}

// DecodeJSONReader decodes the JSON value r holds into v with the rules of [DecodeJSON],
// reading at most maxBytes (0 means [DefaultMaxBodyBytes]) and checking no
// Content-Type: for a server that checks the request's headers itself.
func DecodeJSONReader(r io.Reader, v any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge(mbe.Limit, err)
		}
		return &Error{Code: http.StatusBadRequest, Msg: "request body could not be read", Err: err}
	}
	if int64(len(data)) > maxBytes {
		return bodyTooLarge(maxBytes, nil)
	}
	return decodeStrict(data, v)
}

// DecodeJSONBytes decodes b into v with the rules of [DecodeJSON], without a size limit.
func DecodeJSONBytes(b []byte, v any) error {
	return decodeStrict(b, v)
}

func bodyTooLarge(limit int64, cause error) *Error {
	p := tooLarge(limit)
	return &Error{Code: p.Status, Msg: p.Detail, Err: cause}
}

func decodeStrict(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &Error{Code: http.StatusInternalServerError, Err: fmt.Errorf("httptransport: decode target must be a non-nil pointer, got %T", v)}
	}
	if se := checkStrict(data, rv.Type().Elem()); se != nil {
		return se.toError()
	}
	fresh := reflect.New(rv.Type().Elem())
	if !rv.Elem().IsZero() {
		fresh.Elem().Set(rv.Elem())
	}
	if err := json.Unmarshal(data, fresh.Interface()); err != nil {
		return unmarshalError(err)
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// unmarshalError is the [*Error] for what encoding/json refused in a body the walk
// accepted: a type's own UnmarshalJSON or UnmarshalText failing, mostly.
func unmarshalError(err error) *Error {
	var typ *json.UnmarshalTypeError
	var inv *json.InvalidUnmarshalError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		return &Error{Code: http.StatusBadRequest, Msg: "request body has a value of the wrong type",
			Fields: []FieldError{{Field: typ.Field, Detail: fmt.Sprintf("must be %s, got JSON %s", typ.Type, typ.Value)}}, Err: err}
	case errors.As(err, &inv):
		return &Error{Code: http.StatusInternalServerError, Err: err}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return &Error{Code: http.StatusBadRequest, Msg: "request body has an invalid value: " + clip(msg), Err: err}
}
