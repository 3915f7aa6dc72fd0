package dockerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Instruction is one instruction: its upper-case keyword and its arguments as written.
type Instruction struct {
	Keyword string
	Args    string
	Line    int
}

// Stage is one FROM and the instructions up to the next.
type Stage struct {
	From, Name   string
	Instructions []Instruction
}

// Image is what the final stage sets in the image's configuration.
type Image struct {
	Base       string            // the final FROM
	User       string            // USER
	Expose     []string          // EXPOSE, each as port/protocol (8080/tcp)
	Entrypoint []string          // ENTRYPOINT, exec form
	Labels     map[string]string // LABEL
	Env        []string          // ENV, each NAME=VALUE, in order
	Volumes    []string          // VOLUME
	WorkingDir string            // WORKDIR
}

// File is a parsed Dockerfile.
type File struct {
	Args   map[string]string // ARG defaults before the first FROM
	Stages []Stage
}

// Parse reads a Dockerfile: comments dropped, continued lines joined.
func Parse(r io.Reader) (*File, error) {
	f := &File{Args: map[string]string{}}
	sc := bufio.NewScanner(r)
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		if err := f.add(cur.String(), start); err != nil {
			return nil, err
		}
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("dockerfile: line %d: the last instruction ends in a continuation", start)
	}
	if len(f.Stages) == 0 {
		return nil, fmt.Errorf("dockerfile: no FROM")
	}
	return f, nil
}

// ParseFile reads the Dockerfile at path.
func ParseFile(path string) (*File, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := Parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func (f *File) add(text string, line int) error {
	kw, args, _ := strings.Cut(text, " ")
	in := Instruction{Keyword: strings.ToUpper(kw), Args: strings.TrimSpace(args), Line: line}
	switch {
	case in.Keyword == "FROM":
		from, name, _ := strings.Cut(in.Args, " ")
		if a, ok := strings.CutPrefix(strings.ToUpper(name), "AS "); ok {
			name = strings.ToLower(strings.TrimSpace(a))
		}
		f.Stages = append(f.Stages, Stage{From: from, Name: name})
	case len(f.Stages) == 0 && in.Keyword == "ARG":
		k, v, _ := strings.Cut(in.Args, "=")
		f.Args[k] = v
	case len(f.Stages) == 0:
		return fmt.Errorf("dockerfile: line %d: %s before the first FROM", line, in.Keyword)
	default:
		s := &f.Stages[len(f.Stages)-1]
		s.Instructions = append(s.Instructions, in)
	}
	return nil
}

// Final returns the configuration the final stage sets, with ARG defaults (overridden
// by args) substituted in ${NAME} and $NAME.
func (f *File) Final(args map[string]string) (Image, error) {
	s := f.Stages[len(f.Stages)-1]
	img := Image{Base: s.From, Labels: map[string]string{}}
	vars := map[string]string{}
	for _, in := range s.Instructions {
		switch in.Keyword {
		case "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			if o, ok := args[k]; ok {
				v = o
			}
			vars[k] = unquote(v)
		case "LABEL", "ENV":
			pairs, err := keyValues(in.Args)
			if err != nil {
				return img, fmt.Errorf("dockerfile: line %d: %w", in.Line, err)
			}
			for _, p := range pairs {
				v := os.Expand(p[1], func(k string) string { return vars[k] })
				if in.Keyword == "LABEL" {
					img.Labels[p[0]] = v
				} else {
					img.Env = append(img.Env, p[0]+"="+v)
				}
			}
		case "USER":
			img.User = in.Args
		case "EXPOSE":
			for _, p := range strings.Fields(in.Args) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				img.Expose = append(img.Expose, p)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.Args), &img.Entrypoint); err != nil {
				return img, fmt.Errorf("dockerfile: line %d: ENTRYPOINT in exec form, a JSON list, is needed for signals to reach the service: %w", in.Line, err)
			}
		case "VOLUME":
			img.Volumes = append(img.Volumes, strings.Fields(in.Args)...)
		case "WORKDIR":
			img.WorkingDir = in.Args
		}
	}
	return img, nil
}

// keyValues splits KEY=VALUE pairs, values optionally double-quoted.
func keyValues(s string) ([][2]string, error) {
	var out [][2]string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("want KEY=VALUE pairs, got %q", s)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && (rest[end] != '"' || rest[end-1] == '\\') {
				end++
			}
			if end == len(rest) {
				return nil, fmt.Errorf("an unterminated quote in %q", s)
			}
			v, rest = unquote(rest[:end+1]), rest[end+1:]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		out = append(out, [2]string{k, v})
		s = rest
	}
	return out, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}
