package compliance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// node is a parsed JSON value that keeps object keys in order, so that every problem of
// a file can be reported at once with its path (encoding/json stops at the first).
type node struct {
	kind   byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys   []string
	fields map[string]*node
	items  []*node
	str    string
	num    json.Number
	b      bool
}

const maxDepth = 32

// parseTree parses one JSON document from data. Duplicate keys are reported into p with
// their path; a syntax error ends the parse and is returned.
func parseTree(data []byte, p *problems) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, "", 0, p)
	if err != nil {
		return nil, syntaxError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("after the top-level value, at line %d: unexpected data", lineOf(data, dec.InputOffset()))
	}
	return n, nil
}

func readNode(dec *json.Decoder, path string, depth int, p *problems) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: 'o', fields: map[string]*node{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok { // the decoder returns object keys as strings
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				child, err := readNode(dec, joinPath(path, k), depth+1, p)
				if err != nil {
					return nil, err
				}
				if _, dup := n.fields[k]; dup {
					p.add(joinPath(path, k), "appears twice; give each field once")
					continue
				}
				n.keys = append(n.keys, k)
				n.fields[k] = child
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &node{kind: 'a'}
			for i := 0; dec.More(); i++ {
				child, err := readNode(dec, fmt.Sprintf("%s[%d]", path, i), depth+1, p)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, child)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
	case string:
		return &node{kind: 's', str: t}, nil
	case json.Number:
		return &node{kind: 'n', num: t}, nil
	case bool:
		return &node{kind: 'b', b: t}, nil
	case nil:
		return &node{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func syntaxError(data []byte, dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at line %d: %v", lineOf(data, se.Offset), se)
	}
	return fmt.Errorf("at line %d: %v", lineOf(data, dec.InputOffset()), err)
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// kindName names a node kind for messages.
func kindName(n *node) string {
	switch n.kind {
	case 'o':
		return "an object"
	case 'a':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

// object checks that n is an object whose keys are all in allowed, reporting the
// others; it returns false when n is not an object.
func object(n *node, path string, p *problems, allowed ...string) bool {
	if n.kind != 'o' {
		p.add(path, "must be an object, got %s", kindName(n))
		return false
	}
	for _, k := range n.keys {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			sorted := append([]string(nil), allowed...)
			sort.Strings(sorted)
			p.add(joinPath(path, k), "unknown field; valid fields here: %s", strings.Join(sorted, ", "))
		}
	}
	return true
}

// str returns the string at n, reporting another kind.
func str(n *node, path string, p *problems) (string, bool) {
	if n.kind != 's' {
		p.add(path, "must be a string, got %s", kindName(n))
		return "", false
	}
	return n.str, true
}

// integer returns the integer at n, reporting another kind or a fraction.
func integer(n *node, path string, p *problems) (int, bool) {
	if n.kind == 'n' {
		if v, err := n.num.Int64(); err == nil && v >= -1<<31 && v < 1<<31 {
			return int(v), true
		}
		p.add(path, "must be a whole number, got %s", n.num)
		return 0, false
	}
	p.add(path, "must be a whole number, got %s", kindName(n))
	return 0, false
}

// boolean returns the boolean at n, reporting another kind.
func boolean(n *node, path string, p *problems) (bool, bool) {
	if n.kind != 'b' {
		p.add(path, "must be true or false, got %s", kindName(n))
		return false, false
	}
	return n.b, true
}

// array returns the items at n, reporting another kind.
func array(n *node, path string, p *problems) ([]*node, bool) {
	if n.kind != 'a' {
		p.add(path, "must be an array, got %s", kindName(n))
		return nil, false
	}
	return n.items, true
}
