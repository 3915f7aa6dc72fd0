package httptransport

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxJSONDepth bounds the nesting of objects and arrays in a body [DecodeJSON] accepts:
// the value at the top is level 1.
const MaxJSONDepth = 32

// The strict decoder is a walk over the body's bytes that checks every rule against the
// Go type, followed by encoding/json's Unmarshal of the body the walk accepted. The walk
// is a scanner of its own rather than a loop over json.Decoder.Token, which allocates for
// every token (see BenchmarkDecodeJSON). When encoding/json/v2 leaves GOEXPERIMENT (Go
// 1.26 has it only under GOEXPERIMENT=jsonv2, and the core may not link
// github.com/go-json-experiment), the rules become its options: RejectUnknownMembers,
// duplicate names refused, case-sensitive names, and the walk shrinks to what they lack.

// failure kinds, which choose the sentence of [Error.Msg].
const (
	failSyntax = iota
	failUnknown
	failDuplicate
	failType
	failOther
)

// strictError is one reason a body is refused: the JSON path of the offending value
// (empty for the body as a whole) and what is wrong with it.
type strictError struct {
	kind   int
	path   string
	detail string // "is not a known field", "must be a string, got a number"
}

// toError is the 400 [*Error] for e: the detail in Msg, and the field in Fields when
// there is one.
func (e *strictError) toError() *Error {
	var msg string
	switch e.kind {
	case failUnknown:
		msg = fmt.Sprintf("request body has an unknown field %q", e.path)
	case failDuplicate:
		msg = fmt.Sprintf("request body has the field %q more than once", e.path)
	case failType:
		msg = "request body has a value of the wrong type"
		if e.path == "" {
			msg = "request body " + e.detail
		}
	default:
		msg = "request body " + e.detail
		if e.path != "" {
			msg = fmt.Sprintf("request body has an invalid value at %q: %s", e.path, e.detail)
		}
	}
	var fields []FieldError
	if e.path != "" {
		fields = []FieldError{{Field: e.path, Detail: e.detail}}
	}
	return &Error{Code: 400, Msg: msg, Fields: fields}
}

// segment is one step of a path: a struct field (.key), a map key ([key]) or an array
// index ([i]).
type segment struct {
	key   []byte
	index int
	kind  byte // '.', '[' (map key) or '#' (index)
}

// field is one member of a struct as encoding/json names it.
type field struct {
	name   string
	typ    reflect.Type
	quoted bool // the ",string" option
	depth  int  // how deep in embedded structs
	tagged bool // named by its tag
	hidden bool // by another of the same name
}

// structInfo caches a struct's fields for one decode (no state outlives a call).
type structInfo struct {
	t      reflect.Type
	fields []field
}

// walker checks a body against a Go type. It keeps the path to the current value as a
// stack of segments and renders it only for an error.
type walker struct {
	data    []byte
	pos     int
	segs    []segment
	depth   int
	structs []structInfo
	scratch []byte // an unescaped string, reused
	inKey   bool   // reading an object's key
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	numberType          = reflect.TypeFor[json.Number]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkStrict walks data as a value of type t; nil means it passes every rule.
func checkStrict(data []byte, t reflect.Type) *strictError {
	var segs [8]segment
	var structs [4]structInfo
	w := walker{data: data, segs: segs[:0], structs: structs[:0]}
	w.skipSpace()
	if w.pos == len(data) {
		return &strictError{kind: failOther, detail: "is empty: a JSON value is required"}
	}
	if err := w.value(t, false); err != nil {
		return err
	}
	w.skipSpace()
	if w.pos != len(data) {
		return &strictError{kind: failOther, detail: "has data after the JSON value: send exactly one JSON value"}
	}
	return nil
}

// path renders the current path: "addresses.http", "labels[team]", "dependsOn[2]".
func (w *walker) path() string {
	var b strings.Builder
	for _, s := range w.segs {
		switch s.kind {
		case '.':
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(clip(string(s.key)))
		case '[':
			b.WriteString("[" + clip(string(s.key)) + "]")
		default:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	return b.String()
}

// clip shortens a name from a body to 64 bytes, at a rune boundary, for a message.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func (w *walker) fail(kind int, detail string) *strictError {
	return &strictError{kind: kind, path: w.path(), detail: detail}
}

func (w *walker) syntax(what string) *strictError {
	if w.pos >= len(w.data) {
		return w.fail(failSyntax, "is truncated: the JSON ends early")
	}
	return w.fail(failSyntax, fmt.Sprintf("is not valid JSON: %s at byte %d", what, w.pos))
}

func (w *walker) unexpected(want string) *strictError {
	if w.pos >= len(w.data) {
		return w.syntax("")
	}
	return w.syntax(fmt.Sprintf("found %s where %s belongs", quoteByte(w.data[w.pos]), want))
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (w *walker) skipSpace() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// value reads one value of type t (nil: any) at the current path; quoted is the
// ",string" option of the struct field holding it.
func (w *walker) value(t reflect.Type, quoted bool) *strictError {
	nullable := t == nil
	custom := false // the type decodes itself: any JSON value goes to its UnmarshalJSON
	text := false   // the type decodes itself from a JSON string
	for t != nil {
		if t == timeType {
			break
		}
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && mayHaveMethods(t) {
			pt := reflect.PointerTo(t)
			if pt.Implements(jsonUnmarshalerType) {
				custom = true
				break
			}
			if pt.Implements(textUnmarshalerType) {
				text = true
				break
			}
		}
		if t.Kind() == reflect.Pointer {
			nullable = true
			t = t.Elem()
			continue
		}
		if t.Kind() == reflect.Interface {
			nullable = true
			t = nil
		}
		break
	}
	w.skipSpace()
	if w.pos >= len(w.data) {
		return w.syntax("")
	}
	c := w.data[w.pos]
	if custom {
		// Its own rules decide what the value means (a null, say); the body's rules
		// still hold inside it.
		return w.value(nil, false)
	}
	want := func(got string) *strictError {
		return w.fail(failType, "must be "+describe(t, quoted)+", got "+got)
	}
	switch c {
	case '{':
		switch {
		case t == nil:
			return w.object(nil, nil)
		case text:
			return want("an object")
		case t.Kind() == reflect.Struct && t != timeType && !quoted:
			return w.object(t, w.structFields(t))
		case t.Kind() == reflect.Map && mapKeyOK(t.Key()) && !quoted:
			return w.object(t, nil)
		}
		return want("an object")
	case '[':
		var elem reflect.Type
		if t != nil {
			if text || quoted || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
				return want("an array")
			}
			elem = t.Elem()
		}
		return w.array(t, elem)
	case '"':
		start := w.pos
		raw, escaped, err := w.str()
		if err != nil {
			return err
		}
		switch {
		case t == nil || (t.Kind() == reflect.String && t != numberType && !text && !quoted):
			return nil
		}
		if t == timeType {
			// As time.Time's UnmarshalJSON reads it: the raw content, unescaped.
			var tm time.Time
			if quoted || tm.UnmarshalText(raw) != nil {
				return w.fail(failType, fmt.Sprintf("must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", clip(string(w.unescape(raw, escaped)))))
			}
			return nil
		}
		s := w.unescape(raw, escaped)
		switch {
		case text:
			if quoted {
				return want("a string")
			}
			return nil
		case t == numberType:
			if !validNumber(s) {
				return w.fail(failType, fmt.Sprintf("must be a number, got the string %q", clip(string(s))))
			}
			return nil
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !quoted:
			if _, err := base64.StdEncoding.DecodeString(string(s)); err != nil {
				return w.fail(failType, "must be base64 (standard encoding, padded), got a string that is not")
			}
			return nil
		case quoted:
			return w.quotedValue(t, s, start)
		}
		return want("a string")
	case 't', 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if !bytes.HasPrefix(w.data[w.pos:], []byte(lit)) {
			return w.unexpected("a value")
		}
		w.pos += len(lit)
		if t == nil || (t.Kind() == reflect.Bool && !text && !quoted) {
			return nil
		}
		return want("a boolean")
	case 'n':
		if !bytes.HasPrefix(w.data[w.pos:], []byte("null")) {
			return w.unexpected("a value")
		}
		w.pos += len("null")
		if nullable || (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && !text && t != timeType {
			return nil
		}
		return want("null")
	}
	if c == '-' || ('0' <= c && c <= '9') {
		num, err := w.number()
		if err != nil {
			return err
		}
		if t == nil || t == numberType && !quoted {
			return nil
		}
		if text || quoted {
			return want("a number")
		}
		return w.checkNumber(t, num)
	}
	return w.unexpected("a value")
}

// mayHaveMethods reports whether t may have methods: false for the predeclared types
// (string, int, ...) and for unnamed slices, maps and arrays, which cannot.
func mayHaveMethods(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return t.Name() != ""
	case reflect.Struct, reflect.Interface, reflect.Pointer:
		return true
	}
	return t.PkgPath() != ""
}

// checkNumber checks that the number literal num fits in t.
func (w *walker) checkNumber(t reflect.Type, num []byte) *strictError {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(string(num), 10, t.Bits()); err != nil {
			return w.fail(failType, fmt.Sprintf("must be an integer that fits in %d bits, got %s", t.Bits(), clip(string(num))))
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if _, err := strconv.ParseUint(string(num), 10, t.Bits()); err != nil {
			return w.fail(failType, fmt.Sprintf("must be a non-negative integer that fits in %d bits, got %s", t.Bits(), clip(string(num))))
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(string(num), t.Bits()); err != nil {
			return w.fail(failType, "must be a number in range, got "+clip(string(num)))
		}
		return nil
	}
	return w.fail(failType, "must be "+describe(t, false)+", got a number")
}

// quotedValue checks s, the content of a string holding a value of type t for a field
// with the ",string" option.
func (w *walker) quotedValue(t reflect.Type, s []byte, start int) *strictError {
	bad := func() *strictError {
		return w.fail(failType, fmt.Sprintf("must be %s, got %s", describe(t, true), clip(string(w.data[start:w.pos]))))
	}
	switch t.Kind() {
	case reflect.String:
		// The content is itself a JSON string.
		inner := walker{data: s}
		if _, _, err := inner.str(); err != nil || inner.pos != len(s) {
			return bad()
		}
		return nil
	case reflect.Bool:
		if string(s) != "true" && string(s) != "false" {
			return bad()
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if !validNumber(s) {
			return bad()
		}
		return w.checkNumber(t, s)
	}
	return bad()
}

// validNumber reports whether s is exactly one JSON number.
func validNumber(s []byte) bool {
	w := walker{data: s}
	_, err := w.number()
	return err == nil && w.pos == len(s)
}

// number reads a number literal and returns it.
func (w *walker) number() ([]byte, *strictError) {
	start := w.pos
	d := w.data
	if w.pos < len(d) && d[w.pos] == '-' {
		w.pos++
	}
	switch {
	case w.pos < len(d) && d[w.pos] == '0':
		w.pos++
	case w.pos < len(d) && '1' <= d[w.pos] && d[w.pos] <= '9':
		for w.pos < len(d) && '0' <= d[w.pos] && d[w.pos] <= '9' {
			w.pos++
		}
	default:
		return nil, w.unexpected("a digit")
	}
	if w.pos < len(d) && d[w.pos] == '.' {
		w.pos++
		if w.pos >= len(d) || d[w.pos] < '0' || d[w.pos] > '9' {
			return nil, w.unexpected("a digit")
		}
		for w.pos < len(d) && '0' <= d[w.pos] && d[w.pos] <= '9' {
			w.pos++
		}
	}
	if w.pos < len(d) && (d[w.pos] == 'e' || d[w.pos] == 'E') {
		w.pos++
		if w.pos < len(d) && (d[w.pos] == '+' || d[w.pos] == '-') {
			w.pos++
		}
		if w.pos >= len(d) || d[w.pos] < '0' || d[w.pos] > '9' {
			return nil, w.unexpected("a digit")
		}
		for w.pos < len(d) && '0' <= d[w.pos] && d[w.pos] <= '9' {
			w.pos++
		}
	}
	return d[start:w.pos], nil
}

// str reads a string at w.pos (its opening quote) and returns its raw content and
// whether it has escapes. It refuses control characters, invalid UTF-8, lone surrogates
// and NUL (U+0000), which is valid JSON only as an escape.
func (w *walker) str() (raw []byte, escaped bool, _ *strictError) {
	d := w.data
	if w.pos >= len(d) || d[w.pos] != '"' {
		return nil, false, w.unexpected("a string")
	}
	w.pos++
	start := w.pos
	for w.pos < len(d) {
		c := d[w.pos]
		switch {
		case c == '"':
			raw = d[start:w.pos]
			w.pos++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if err := w.escape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, w.syntax("a control character in a string (it must be escaped)")
		case c < utf8.RuneSelf:
			w.pos++
		default:
			r, n := utf8.DecodeRune(d[w.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, w.fail(failSyntax, fmt.Sprintf("is not valid UTF-8 at byte %d", w.pos))
			}
			w.pos += n
		}
	}
	return nil, false, w.syntax("")
}

// escape reads one escape sequence at w.pos (its backslash).
func (w *walker) escape() *strictError {
	d := w.data
	w.pos++
	if w.pos >= len(d) {
		return w.syntax("")
	}
	switch d[w.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		w.pos++
		return nil
	case 'u':
	default:
		return w.syntax("an invalid escape in a string")
	}
	r, ok := hex4(d, w.pos+1)
	if !ok {
		return w.syntax("an invalid \\u escape in a string")
	}
	w.pos += 5
	switch {
	case r == 0 && w.inKey:
		return w.fail(failOther, "has a key with a NUL character (U+0000)")
	case r == 0:
		return w.fail(failOther, "must not contain NUL characters (U+0000)")
	case utf16.IsSurrogate(r):
		// A high surrogate followed by a low one encodes one character.
		low, ok := hex4(d, w.pos+2)
		if r >= 0xdc00 || !ok || d[w.pos] != '\\' || d[w.pos+1] != 'u' || utf16.DecodeRune(r, low) == utf8.RuneError {
			return w.fail(failSyntax, fmt.Sprintf("is not valid JSON: a lone UTF-16 surrogate \\u%04x at byte %d", r, w.pos-6))
		}
		w.pos += 6
	}
	return nil
}

// hex4 decodes the four hex digits at d[i:].
func hex4(d []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape returns the content of a string the walk read; raw itself when it has no
// escapes, else a decoded copy in w.scratch, valid until the next call.
func (w *walker) unescape(raw []byte, escaped bool) []byte {
	if !escaped {
		return raw
	}
	b := w.scratch[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			if utf16.IsSurrogate(r) {
				low, _ := hex4(raw, i+8)
				r = utf16.DecodeRune(r, low)
				i += 6
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			b = append(b, raw[i+1])
		}
		i += 2
	}
	w.scratch = b
	return b
}

// open counts one more level of nesting at a '{' or '['.
func (w *walker) open() *strictError {
	if w.depth >= MaxJSONDepth {
		return w.fail(failOther, fmt.Sprintf("nests deeper than %d levels", MaxJSONDepth))
	}
	w.depth++
	w.pos++
	return nil
}

// array reads an array (at its '[') of elem items (nil: any) into t (nil: any).
func (w *walker) array(t, elem reflect.Type) *strictError {
	if err := w.open(); err != nil {
		return err
	}
	w.segs = append(w.segs, segment{kind: '#'})
	w.skipSpace()
	if w.pos < len(w.data) && w.data[w.pos] == ']' {
		w.pos++
	} else {
		for i := 0; ; i++ {
			w.segs[len(w.segs)-1].index = i
			if t != nil && t.Kind() == reflect.Array && i >= t.Len() {
				w.segs = w.segs[:len(w.segs)-1]
				return w.fail(failType, fmt.Sprintf("must have at most %d items", t.Len()))
			}
			if err := w.value(elem, false); err != nil {
				return err
			}
			w.skipSpace()
			if w.pos >= len(w.data) {
				return w.syntax("")
			}
			if w.data[w.pos] == ']' {
				w.pos++
				break
			}
			if w.data[w.pos] != ',' {
				return w.unexpected("',' or ']'")
			}
			w.pos++
		}
	}
	w.segs = w.segs[:len(w.segs)-1]
	w.depth--
	return nil
}

// smallObject is how many members an object may have before the duplicate check uses a
// map rather than a linear search.
const smallObject = 16

// object reads an object (at its '{'): of struct type t when fields holds its fields,
// of map type t when t is a map, of any type when t is nil.
func (w *walker) object(t reflect.Type, fields []field) *strictError {
	if err := w.open(); err != nil {
		return err
	}
	var small [smallObject][]byte
	seen := small[:0]
	var many map[string]bool
	w.skipSpace()
	if w.pos < len(w.data) && w.data[w.pos] == '}' {
		w.pos++
		w.depth--
		return nil
	}
	for {
		w.skipSpace()
		w.inKey = true
		raw, escaped, err := w.str()
		w.inKey = false
		if err != nil {
			return err
		}
		key := raw
		if escaped {
			key = bytes.Clone(w.unescape(raw, true))
		}
		seg := segment{key: key, kind: '['}
		var ft reflect.Type
		quoted := false
		switch {
		case t != nil && t.Kind() == reflect.Struct:
			seg.kind = '.'
			i := slices.IndexFunc(fields, func(f field) bool { return f.name == string(key) })
			if i < 0 {
				w.segs = append(w.segs, seg)
				return w.fail(failUnknown, "is not a known field")
			}
			ft, quoted = fields[i].typ, fields[i].quoted
		case t != nil:
			ft = t.Elem()
		}
		w.segs = append(w.segs, seg)
		if t != nil && t.Kind() == reflect.Map {
			if err := w.checkMapKey(t.Key(), key); err != nil {
				return err
			}
		}
		dup := false
		switch {
		case many != nil:
			dup = many[string(key)]
			many[string(key)] = true
		case len(seen) < smallObject:
			dup = slices.ContainsFunc(seen, func(k []byte) bool { return bytes.Equal(k, key) })
			seen = append(seen, key)
		default:
			many = make(map[string]bool, 2*smallObject)
			for _, k := range seen {
				many[string(k)] = true
			}
			dup = many[string(key)]
			many[string(key)] = true
		}
		if dup {
			return w.fail(failDuplicate, "appears more than once")
		}
		w.skipSpace()
		if w.pos >= len(w.data) || w.data[w.pos] != ':' {
			return w.unexpected("':'")
		}
		w.pos++
		if err := w.value(ft, quoted); err != nil {
			return err
		}
		w.segs = w.segs[:len(w.segs)-1]
		w.skipSpace()
		if w.pos >= len(w.data) {
			return w.syntax("")
		}
		if w.data[w.pos] == '}' {
			w.pos++
			break
		}
		if w.data[w.pos] != ',' {
			return w.unexpected("',' or '}'")
		}
		w.pos++
	}
	w.depth--
	return nil
}

// mapKeyOK reports whether encoding/json decodes objects into maps with keys of type k.
func mapKeyOK(k reflect.Type) bool {
	if reflect.PointerTo(k).Implements(textUnmarshalerType) {
		return true
	}
	switch k.Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// checkMapKey checks a key of a map whose key type is k, as encoding/json parses it.
func (w *walker) checkMapKey(k reflect.Type, key []byte) *strictError {
	if reflect.PointerTo(k).Implements(textUnmarshalerType) {
		return nil
	}
	// Only the plain form ("7", not "07" or "+7"), so that two keys the duplicate check
	// tells apart are never one key of the map.
	var plain string
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(string(key), 10, k.Bits()); err == nil {
			plain = strconv.FormatInt(n, 10)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(string(key), 10, k.Bits()); err == nil {
			plain = strconv.FormatUint(n, 10)
		}
	default:
		return nil
	}
	if plain != string(key) {
		return w.fail(failType, fmt.Sprintf("must have keys that are integers fitting in %d bits, written plainly (7, not 07 or +7)", k.Bits()))
	}
	return nil
}

// structFields returns the fields of struct type t, computed once per decode.
func (w *walker) structFields(t reflect.Type) []field {
	for _, s := range w.structs {
		if s.t == t {
			return s.fields
		}
	}
	fs := typeFields(t)
	w.structs = append(w.structs, structInfo{t: t, fields: fs})
	return fs
}

// typeFields lists the fields encoding/json decodes into for struct type t, with its
// rules: the tag's name, else the Go name; "-" skipped; fields of untagged embedded
// structs promoted; of several fields with one name, the shallowest wins, then the one
// tagged, and a tie hides them all.
func typeFields(t reflect.Type) []field {
	type level struct {
		t     reflect.Type
		depth int
	}
	var queueBuf [4]level
	queue := append(queueBuf[:0], level{t, 0})
	var visited []reflect.Type
	all := make([]field, 0, t.NumField())
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if slices.Contains(visited, cur.t) {
			continue
		}
		visited = append(visited, cur.t)
		for i := range cur.t.NumField() {
			sf := cur.t.Field(i)
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validTagName(name) {
				name = ""
			}
			ft := sf.Type
			if ft.Kind() == reflect.Pointer && ft.Name() == "" {
				ft = ft.Elem()
			}
			if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
				queue = append(queue, level{ft, cur.depth + 1})
				continue
			}
			f := field{name: name, typ: sf.Type, depth: cur.depth, tagged: name != ""}
			if f.name == "" {
				f.name = sf.Name
			}
			for opts != "" {
				var opt string
				opt, opts, _ = strings.Cut(opts, ",")
				if opt != "string" {
					continue
				}
				switch ft.Kind() {
				case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
					reflect.Float32, reflect.Float64, reflect.String:
					f.quoted = true
				}
			}
			all = append(all, f)
		}
	}
	// Mark the fields another of the same name hides, then drop them.
	for i := range all {
		for j := range all {
			o, c := &all[j], &all[i]
			if i == j || o.name != c.name {
				continue
			}
			if o.depth < c.depth || o.depth == c.depth && (o.tagged && !c.tagged || o.tagged == c.tagged) {
				c.hidden = true
			}
		}
	}
	return slices.DeleteFunc(all, func(f field) bool { return f.hidden })
}

// validTagName reports whether encoding/json takes name from a tag as the field's name.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// describe names what a value of type t must be, for a message.
func describe(t reflect.Type, quoted bool) string {
	if t == nil {
		return "a JSON value"
	}
	if quoted {
		return "a string holding " + describe(t, false)
	}
	if t == timeType {
		return "an RFC 3339 time string"
	}
	if t == numberType {
		return "a number"
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "an object"
	case reflect.Map:
		if mapKeyOK(t.Key()) {
			return "an object"
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	}
	return "a value Go's " + t.String() + " cannot hold"
}
