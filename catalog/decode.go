package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBodyBytes is the body limit [DecodeStrict] applies when given 0.
const DefaultMaxBodyBytes = 64 << 10

// maxDepth bounds the nesting of objects and arrays in a body.
const maxDepth = 32

// DecodeStrict decodes one JSON value from r into v, a pointer to a struct, and rejects
// what encoding/json lets through: unknown fields (names are matched case-sensitively,
// unlike encoding/json), duplicate keys, values of the wrong type, null where a value is
// required, nesting deeper than 32, trailing data, and bodies over maxBytes
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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec}
	if err := w.value(rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return &DecodeError{Message: "has data after the JSON value"}
	}
	// The walk checked syntax, names and types; decode into a fresh value so v is
	// untouched if encoding/json still objects.
	fresh := reflect.New(rv.Type().Elem())
	if err := json.Unmarshal(data, fresh.Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &DecodeError{Field: te.Field, Message: "must be a " + te.Type.String(), Err: err}
		}
		return &DecodeError{Message: "is not valid JSON", Err: err}
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// walker checks a token stream against a Go type.
type walker struct {
	dec *json.Decoder
}

var timeType = reflect.TypeFor[time.Time]()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) syntax(path string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &DecodeError{Field: path, Message: "is truncated: the JSON ends early", Err: err}
	}
	return &DecodeError{Field: path, Message: "is not valid JSON: " + err.Error(), Err: err}
}

// value reads one value of type t (nil: any) at path.
func (w *walker) value(t reflect.Type, path string, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntax(path, err)
	}
	want := func() error {
		return &DecodeError{Field: path, Message: "must be " + describe(t) + ", got " + describeToken(tok)}
	}
	switch tok := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return &DecodeError{Field: path, Message: fmt.Sprintf("nests deeper than %d levels", maxDepth)}
		}
		switch tok {
		case '{':
			switch {
			case t == nil:
				return w.object(path, depth, func(string) (reflect.Type, string, bool) { return nil, "", true })
			case t.Kind() == reflect.Struct && t != timeType:
				fields := structFields(t)
				return w.object(path, depth, func(k string) (reflect.Type, string, bool) {
					ft, ok := fields[k]
					return ft, join(path, k), ok
				})
			case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
				return w.object(path, depth, func(k string) (reflect.Type, string, bool) {
					return t.Elem(), path + "[" + clip(k) + "]", true
				})
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
			for i := 0; w.dec.More(); i++ {
				if t != nil && t.Kind() == reflect.Array && i >= t.Len() {
					return &DecodeError{Field: path, Message: fmt.Sprintf("must have at most %d items", t.Len())}
				}
				if err := w.value(elem, index(path, i), depth+1); err != nil {
					return err
				}
			}
			if _, err := w.dec.Token(); err != nil {
				return w.syntax(path, err)
			}
			return nil
		}
		return &DecodeError{Field: path, Message: "is not valid JSON"}
	case string:
		switch {
		case t == nil, t.Kind() == reflect.String:
			return nil
		case t == timeType:
			if _, err := time.Parse(time.RFC3339Nano, tok); err != nil {
				return &DecodeError{Field: path, Message: fmt.Sprintf("must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", clip(tok))}
			}
			return nil
		}
		return want()
	case json.Number:
		if t == nil {
			return nil
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(tok.String(), 10, t.Bits()); err != nil {
				return &DecodeError{Field: path, Message: fmt.Sprintf("must be an integer that fits in %d bits, got %s", t.Bits(), clip(tok.String()))}
			}
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if _, err := strconv.ParseUint(tok.String(), 10, t.Bits()); err != nil {
				return &DecodeError{Field: path, Message: fmt.Sprintf("must be a non-negative integer that fits in %d bits, got %s", t.Bits(), clip(tok.String()))}
			}
			return nil
		case reflect.Float32, reflect.Float64:
			if _, err := strconv.ParseFloat(tok.String(), t.Bits()); err != nil {
				return &DecodeError{Field: path, Message: "must be a number in range, got " + clip(tok.String())}
			}
			return nil
		}
		return want()
	case bool:
		if t == nil || t.Kind() == reflect.Bool {
			return nil
		}
		return want()
	case nil:
		if t == nil || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			return nil
		}
		return want()
	}
	return want()
}

// object reads the members of an object whose '{' was read. field maps a key to the
// member's type and path, or reports it unknown.
func (w *walker) object(path string, depth int, field func(key string) (reflect.Type, string, bool)) error {
	seen := make(map[string]bool)
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(path, err)
		}
		key, ok := tok.(string)
		if !ok {
			return &DecodeError{Field: path, Message: "is not valid JSON: object key is not a string"}
		}
		ft, fpath, known := field(key)
		if fpath == "" {
			fpath = path + "[" + clip(key) + "]"
		}
		if !known {
			return &DecodeError{Field: join(path, clip(key)), Message: "is not a known field"}
		}
		if seen[key] {
			return &DecodeError{Field: fpath, Message: "appears more than once"}
		}
		seen[key] = true
		if err := w.value(ft, fpath, depth+1); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return w.syntax(path, err)
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

func describeToken(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "something else"
}
