package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/paved-road/paved/catalog"
)

// DefaultMaxBodyBytes is the body limit [DecodeStrict] applies when given 0.
const DefaultMaxBodyBytes = 64 << 10

// maxDepth bounds the nesting of objects and arrays in a body.
const maxDepth = 32

// DecodeStrict decodes one JSON value from r into v, a pointer to a struct, and rejects
// what encoding/json lets through: unknown fields (names are matched case-sensitively,
// unlike encoding/json), duplicate keys, values of the wrong type, null where a value is
// required, NUL characters (U+0000) in strings and keys, nesting deeper than 32,
// trailing data, and bodies over maxBytes
// (0 means [DefaultMaxBodyBytes]). Every error is a [*DecodeError] naming the field;
// a body over the limit wraps [ErrBodyTooLarge]. On error v is left unchanged.
//
// DecodeStrict does not validate values: call the type's Validate method next.
func DecodeStrict(r io.Reader, maxBytes int64, v any) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return &DecodeError{Message: "could not read the body", Err: err}
	}
	if int64(len(data)) > maxBytes {
		return &DecodeError{Message: fmt.Sprintf("must be at most %d bytes", maxBytes), Err: ErrBodyTooLarge}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &DecodeError{Message: fmt.Sprintf("decode target must be a non-nil pointer, got %T", v)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &DecodeError{Message: "is empty: a JSON object is required"}
	}
	// The walk reads tokens with jsontext (github.com/go-json-experiment/json, the
	// encoding/json/v2 candidate): encoding/json's Decoder.Token allocates for every
	// token and formats an error to find the end of each value, which made the walk
	// four times the cost of the decode (BenchmarkDecodeStrict).
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false))
	w := walker{dec: dec, segs: make([]segment, 0, 8)}
	if err := w.value(rv.Type().Elem()); err != nil {
		return err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return &DecodeError{Message: "has data after the JSON value"}
	}
	// The walk checked syntax, names and types; decode into a fresh value so v is
	// untouched if the decoder still objects. encoding/json/v2's candidate decodes the
	// body the walk accepted as encoding/json would (the fuzz tests check that), in
	// half the time.
	fresh := reflect.New(rv.Type().Elem())
	if err := jsonv2.Unmarshal(data, fresh.Interface(), jsonv2.RejectUnknownMembers(true)); err != nil {
		var se *jsonv2.SemanticError
		if errors.As(err, &se) && se.GoType != nil {
			return &DecodeError{Field: pointerPath(se.JSONPointer), Message: "must be a " + se.GoType.String(), Err: err}
		}
		return &DecodeError{Message: "is not valid JSON", Err: err}
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// walker checks a token stream against a Go type. It keeps the path to the current
// value as a stack of segments and renders it only for an error.
type walker struct {
	dec  *jsontext.Decoder
	segs []segment
}

// segment is one step of a path: a struct field (.key), a map key ([key]) or an array
// index ([i]).
type segment struct {
	key   string
	index int
	kind  byte // '.', '[' (map key) or '#' (index)
}

var timeType = reflect.TypeFor[time.Time]()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// path renders the current path: "addresses.http", "labels[team]", "dependsOn[2]".
func (w *walker) path() string {
	var p string
	for _, s := range w.segs {
		switch s.kind {
		case '.':
			p = join(p, catalog.Clip(s.key))
		case '[':
			p += "[" + catalog.Clip(s.key) + "]"
		default:
			p = fmt.Sprintf("%s[%d]", p, s.index)
		}
	}
	return p
}

func (w *walker) fail(msg string) error { return &DecodeError{Field: w.path(), Message: msg} }

func (w *walker) syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &DecodeError{Field: w.path(), Message: "is truncated: the JSON ends early", Err: err}
	}
	return &DecodeError{Field: w.path(), Message: "is not valid JSON: " + err.Error(), Err: err}
}

// value reads one value of type t (nil: any) at the current path.
func (w *walker) value(t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	tok, err := w.dec.ReadToken()
	if err != nil {
		return w.syntax(err)
	}
	kind := tok.Kind()
	want := func() error { return w.fail("must be " + describe(t) + ", got " + describeKind(kind)) }
	switch kind {
	case '{', '[':
		if len(w.segs) >= maxDepth {
			return w.fail(fmt.Sprintf("nests deeper than %d levels", maxDepth))
		}
	}
	switch kind {
	case '{':
		switch {
		case t == nil:
			return w.object(nil, nil)
		case t.Kind() == reflect.Struct && t != timeType:
			return w.object(t, structFields(t))
		case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
			return w.object(t, nil)
		}
		return want()
	case '[':
		var elem reflect.Type
		if t != nil {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return want()
			}
			elem = t.Elem()
		}
		w.segs = append(w.segs, segment{kind: '#'})
		for i := 0; w.dec.PeekKind() != ']'; i++ {
			w.segs[len(w.segs)-1].index = i
			if t != nil && t.Kind() == reflect.Array && i >= t.Len() {
				w.segs = w.segs[:len(w.segs)-1]
				return w.fail(fmt.Sprintf("must have at most %d items", t.Len()))
			}
			if err := w.value(elem); err != nil {
				return err
			}
		}
		w.segs = w.segs[:len(w.segs)-1]
		if _, err := w.dec.ReadToken(); err != nil {
			return w.syntax(err)
		}
		return nil
	case '"':
		if strings.IndexByte(tok.String(), 0) >= 0 {
			return w.fail("must not contain NUL characters (U+0000)")
		}
		switch {
		case t == nil, t.Kind() == reflect.String:
			return nil
		case t == timeType:
			if v := tok.String(); !validTime(v) {
				return w.fail(fmt.Sprintf("must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", catalog.Clip(v)))
			}
			return nil
		}
		return want()
	case '0':
		if t == nil {
			return nil
		}
		num := tok.String()
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(num, 10, t.Bits()); err != nil {
				return w.fail(fmt.Sprintf("must be an integer that fits in %d bits, got %s", t.Bits(), catalog.Clip(num)))
			}
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if _, err := strconv.ParseUint(num, 10, t.Bits()); err != nil {
				return w.fail(fmt.Sprintf("must be a non-negative integer that fits in %d bits, got %s", t.Bits(), catalog.Clip(num)))
			}
			return nil
		case reflect.Float32, reflect.Float64:
			if _, err := strconv.ParseFloat(num, t.Bits()); err != nil {
				return w.fail("must be a number in range, got " + catalog.Clip(num))
			}
			return nil
		}
		return want()
	case 't', 'f':
		if t == nil || t.Kind() == reflect.Bool {
			return nil
		}
		return want()
	case 'n':
		if t == nil || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			return nil
		}
		return want()
	}
	// A closing delimiter where a value belongs.
	return w.fail("is not valid JSON")
}

// validTime reports whether v parses as encoding/json decodes a time.Time.
func validTime(v string) bool {
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// smallObject is how many members an object may have before the duplicate check uses a
// map rather than a linear search.
const smallObject = 16

// object reads the members of an object whose '{' was read: of struct type t when
// fields holds its fields, of map type t when t is a map, of any type when t is nil.
func (w *walker) object(t reflect.Type, fields map[string]reflect.Type) error {
	var small [smallObject]string
	seen := small[:0]
	var many map[string]bool
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return w.syntax(err)
		}
		if tok.Kind() != '"' {
			return w.fail("is not valid JSON: object key is not a string")
		}
		key := tok.String()
		if strings.IndexByte(key, 0) >= 0 {
			return w.fail("has a key with a NUL character (U+0000)")
		}
		seg := segment{key: key, kind: '['}
		var ft reflect.Type
		switch {
		case fields != nil:
			seg.kind = '.'
			var known bool
			if ft, known = fields[key]; !known {
				w.segs = append(w.segs, seg)
				err := w.fail("is not a known field")
				w.segs = w.segs[:len(w.segs)-1]
				return err
			}
		case t != nil:
			ft = t.Elem()
		}
		w.segs = append(w.segs, seg)
		dup := false
		switch {
		case many != nil:
			dup = many[key]
			many[key] = true
		case len(seen) < smallObject:
			dup = slices.Contains(seen, key)
			seen = append(seen, key)
		default:
			many = make(map[string]bool, 2*smallObject)
			for _, k := range seen {
				many[k] = true
			}
			dup = many[key]
			many[key] = true
		}
		if dup {
			return w.fail("appears more than once")
		}
		if err := w.value(ft); err != nil {
			return err
		}
		w.segs = w.segs[:len(w.segs)-1]
	}
	if _, err := w.dec.ReadToken(); err != nil {
		return w.syntax(err)
	}
	return nil
}

// structFields maps the JSON names of t's fields to their types, as encoding/json names
// them (tag name, else field name; "-" skipped; untagged embedded structs flattened).
func structFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func describe(t reflect.Type) string {
	if t == nil {
		return "a JSON value"
	}
	if t == timeType {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "an object"
	case reflect.Map:
		return "an object of strings"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a " + t.String()
}

func describeKind(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "something else"
}

// pointerPath turns a JSON pointer ("/addresses/http") into a field path
// ("addresses.http").
func pointerPath(p jsontext.Pointer) string {
	var path string
	for tok := range p.Tokens() {
		path = join(path, catalog.Clip(tok))
	}
	return path
}

// ErrBodyTooLarge is wrapped by the [*DecodeError] returned for a body over the limit, so
// a server can answer 413 instead of 400.
var ErrBodyTooLarge = errors.New("catalog: body too large")

// DecodeError is a request body that could not be decoded: not JSON, an unknown or
// duplicate field, a value of the wrong type, trailing data, or too large.
type DecodeError struct {
	// Field is the JSON path of the offending field; empty for the body as a whole.
	Field string
	// Message says what is wrong, for the client.
	Message string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns "catalog: bad body: field: message".
func (e *DecodeError) Error() string {
	return "catalog: bad body: " + catalog.FieldError{Field: e.Field, Message: e.Message}.String()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }
