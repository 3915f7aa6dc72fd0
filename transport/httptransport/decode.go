package httptransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxBodyBytes is the body limit of [DecodeJSON] when none is given.
const DefaultMaxBodyBytes = 1 << 20

// DecodeJSON decodes r's JSON body into v strictly: unknown fields, trailing data after
// the value, a body over maxBytes (0 means [DefaultMaxBodyBytes]) and malformed JSON are
// each a 400 (413 for the size) *[Error] that names the problem and, where there is one,
// the field. A Content-Type other than application/json (or +json) is a 415.
func DecodeJSON(r *http.Request, v any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		mt = strings.TrimSpace(strings.ToLower(mt))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return &Error{Code: http.StatusUnsupportedMediaType, Msg: "Content-Type must be application/json, got " + mt}
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return BadRequest("request body is empty: a JSON object is required")
	}
	body := http.MaxBytesReader(nil, r.Body, maxBytes)
	return decodeStrict(body, v, maxBytes)
}

// DecodeJSONBytes decodes b into v with the same rules as [DecodeJSON].
func DecodeJSONBytes(b []byte, v any) error {
	return decodeStrict(bytes.NewReader(b), v, int64(len(b))+1)
}

func decodeStrict(r io.Reader, v any, maxBytes int64) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, maxBytes)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, maxBytes)
		}
		return BadRequest("request body has data after the JSON value: send exactly one JSON value")
	}
	return nil
}

func jsonError(err error, maxBytes int64) error {
	var (
		mbe    *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
		invUnm *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &mbe):
		return &Error{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than the limit of %d bytes", maxBytes), Err: err}
	case errors.As(err, &syn):
		return BadRequest(fmt.Sprintf("request body is not valid JSON at byte %d: %v", syn.Offset, syn))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(root)"
		}
		return BadRequest("request body has a value of the wrong type",
			FieldError{Field: field, Detail: fmt.Sprintf("must be %s, got JSON %s", typ.Type, typ.Value)})
	case errors.Is(err, io.EOF):
		return BadRequest("request body is empty: a JSON value is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("request body ends in the middle of its JSON value")
	case errors.As(err, &invUnm):
		return &Error{Code: http.StatusInternalServerError, Err: err}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f := strings.Trim(name, `"`)
		return BadRequest("request body has an unknown field "+name, FieldError{Field: f, Detail: "is not a known field"})
	}
	return BadRequest("request body is not valid: " + err.Error())
}
