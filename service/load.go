package service

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/caarlos0/env/v11"

	"github.com/paved-road/paved/problem"
	"github.com/paved-road/paved/telemetry"
)

// redacted replaces every secret value that would otherwise be shown.
const redacted = "[REDACTED]"

// Problem is one invalid setting: the variable, its value (redacted for secrets, empty
// when unset) and what is wrong with it, including what would be valid.
type Problem struct {
	Var   string
	Value string
	Msg   string
}

// String formats the problem as VAR="value": message.
func (p Problem) String() string {
	if p.Value == "" {
		return p.Var + ": " + p.Msg
	}
	return fmt.Sprintf("%s=%q: %s", p.Var, p.Value, p.Msg)
}

// ConfigError lists every problem found while loading a configuration. [Main] prints it
// and exits with code 2.
type ConfigError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service: invalid configuration (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Validator is implemented by a team's config struct to add its own checks. Validate
// returns nil, or an error (errors.Join several) for each invalid field; wrap them in
// [NewProblem] to name the variable.
type Validator interface {
	Validate() error
}

// NewProblem returns an error naming variable key with its value and what is wrong, for
// a team's Validate method. Secret variables' values are redacted when reported.
func NewProblem(key, value, msg string) error {
	return &problemError{Problem{Var: key, Value: value, Msg: msg}}
}

type problemError struct{ p Problem }

func (e *problemError) Error() string { return e.p.String() }

// LoadOption changes how [Load] reads the configuration.
type LoadOption func(*loadOptions)

type loadOptions struct {
	environ map[string]string
	extra   []func(lookup func(string) (string, bool)) error
}

// WithEnviron makes Load read variables from m instead of the process environment.
func WithEnviron(m map[string]string) LoadOption {
	return func(o *loadOptions) { o.environ = m }
}

// WithValidation adds a check over the raw variables (such as the OTEL_* ones that are
// not fields of the struct); its errors join the list Load reports.
func WithValidation(f func(lookup func(string) (string, bool)) error) LoadOption {
	return func(o *loadOptions) { o.extra = append(o.extra, f) }
}

// Load fills a T from the environment: every field with an env tag, in T and in the
// service.Config it embeds. Every problem is reported at once in a *[ConfigError] that
// names each variable, why it is wrong and what is valid, and never shows a secret's
// value. T must be a struct; it may implement [Validator].
func Load[T any](opts ...LoadOption) (T, error) {
	var cfg T
	o := loadOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.environ == nil {
		o.environ = environMap(os.Environ())
	}
	if reflect.TypeOf(cfg) == nil || reflect.TypeOf(cfg).Kind() != reflect.Struct {
		return cfg, fmt.Errorf("service: Load needs a struct type, got %T", cfg)
	}
	fields := Fields(&cfg)
	p := &problems{secret: func(key string) bool {
		for _, f := range fields {
			if f.Key == key {
				return f.Secret
			}
		}
		return IsSecretName(key)
	}}

	err := env.ParseWithOptions(&cfg, env.Options{Environment: o.environ})
	if err != nil {
		addEnvErrors(p, err, fields, o.environ)
	}
	lookup := func(k string) (string, bool) { v, ok := o.environ[k]; return v, ok }
	if b, ok := any(&cfg).(interface{ Base() *Config }); ok {
		base := b.Base()
		base.validate(p)
		tc, err := telemetry.TracingConfigFromEnv(lookup)
		addErrors(p, err)
		base.Tracing, base.tracingLoaded = tc, true
	}
	if v, ok := any(&cfg).(Validator); ok {
		addErrors(p, v.Validate())
	}
	nested := &problems{secret: p.secret}
	validateNested(nested, reflect.ValueOf(&cfg).Elem())
	p.addNew(nested)
	unknownUnderPrefixes(p, reflect.TypeOf(cfg), fields, o.environ)
	for _, f := range o.extra {
		addErrors(p, f(lookup))
	}
	if len(p.list) > 0 {
		var secrets []string
		for k, v := range o.environ {
			if p.secret(k) {
				secrets = append(secrets, v)
			}
		}
		p.scrub(secrets)
		return cfg, &ConfigError{Problems: dedupe(p.list)}
	}
	return cfg, nil
}

// unknownUnderPrefixes reports each variable that starts with the prefix of a group of
// settings (a nested struct's envPrefix, such as NATS_PUBLISH_ or INVENTORY_BREAKER_)
// but is none of them: a typo there (NATS_PUBLISH_OPEN_TIMEOUT for
// NATS_PUBLISH_BREAKER_OPEN_TIMEOUT) would otherwise leave the default in force without
// a word. Variables outside those prefixes belong to anyone (a shell, another tool)
// and are left alone.
func unknownUnderPrefixes(p *problems, t reflect.Type, fields []Field, environ map[string]string) {
	var prefixes []string
	envPrefixes(t, "", &prefixes)
	if len(prefixes) == 0 {
		return
	}
	known := make([]string, 0, len(fields))
	for _, f := range fields {
		known = append(known, f.Key)
	}
	for _, k := range slices.Sorted(maps.Keys(environ)) {
		if slices.Contains(known, k) {
			continue
		}
		for _, pre := range prefixes {
			if !strings.HasPrefix(k, pre) {
				continue
			}
			msg := "is not a setting: the variables that start with " + pre + " are settings of this service, and this one is none of them"
			if near := nearestSetting(k, pre, known); near != "" {
				msg += "; did you mean " + near + "?"
			}
			p.add(k, environ[k], msg)
			break
		}
	}
}

// nearestSetting returns the known setting name was probably meant to be: the one
// setting under prefix that ends with what follows the prefix in name (a group left
// out: NATS_PUBLISH_OPEN_TIMEOUT for NATS_PUBLISH_BREAKER_OPEN_TIMEOUT), else a likely
// typo of one (problem.Nearest); "" when there is none.
func nearestSetting(name, prefix string, known []string) string {
	rest := "_" + strings.TrimPrefix(name, prefix)
	found, n := "", 0
	for _, k := range known {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, rest) {
			found, n = k, n+1
		}
	}
	if n == 1 {
		return found
	}
	return problem.Nearest(name, known)
}

// envPrefixes appends the full prefix of every nested struct of t that has an
// envPrefix tag, as caarlos0/env composes them.
func envPrefixes(t reflect.Type, prefix string, out *[]string) {
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
		if !sf.IsExported() || key != "" {
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct {
			continue
		}
		pre := prefix + sf.Tag.Get("envPrefix")
		if pre != prefix {
			*out = append(*out, pre)
		}
		envPrefixes(ft, pre, out)
	}
}

// validateNested calls Validate on every struct field of v (at any depth) that
// implements [Validator], such as a capability's settings a team embeds beside
// service.Config (natsjs.Config); the base Config is validated by Load itself. Load
// keeps only the problems the config's own Validate did not report already (a team's
// Validate that checks a field's settings and names the variable).
func validateNested(p *problems, v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() || f.Kind() != reflect.Struct || f.Type() == reflect.TypeFor[Config]() {
			continue
		}
		if val, ok := f.Addr().Interface().(Validator); ok {
			addErrors(p, val.Validate())
			continue
		}
		validateNested(p, f)
	}
}

// addNew adds the problems of q whose message no problem of p holds already.
func (p *problems) addNew(q *problems) {
next:
	for _, n := range q.list {
		for _, o := range p.list {
			if strings.Contains(o.Msg, n.Msg) {
				continue next
			}
		}
		p.list = append(p.list, n)
	}
}

// addErrors adds err (possibly a join of several) to p, as problems when they are.
func addErrors(p *problems, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			addErrors(p, e)
		}
		return
	}
	var pe *problemError
	if errors.As(err, &pe) {
		p.add(pe.p.Var, pe.p.Value, pe.p.Msg)
		return
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		for _, q := range ce.Problems {
			p.add(q.Var, q.Value, q.Msg)
		}
		return
	}
	var te *telemetry.ConfigError
	if errors.As(err, &te) {
		// Valid says what to do ("use true or false"): it reads on its own.
		p.add(te.Variable, te.Value, te.Valid)
		return
	}
	p.addMsg("config", err.Error())
}

// addEnvErrors turns caarlos0/env's errors, which carry raw values, into problems that
// name the variable and redact secrets.
func addEnvErrors(p *problems, err error, fields []Field, environ map[string]string) {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		p.addMsg("config", "could not be loaded: "+err.Error())
		return
	}
	for _, e := range agg.Errors {
		var (
			notSet env.VarIsNotSetError
			empty  env.EmptyVarError
			parse  env.ParseError
		)
		switch {
		case errors.As(e, &notSet):
			p.add(notSet.Key, "", "is required but not set")
		case errors.As(e, &empty):
			p.add(empty.Key, "", "is required and must not be empty")
		case errors.As(e, &parse):
			keys := keysOfField(fields, parse.Name, parse.Type)
			if len(keys) == 0 {
				p.addMsg(parse.Name, "has an invalid value for type "+parse.Type.String())
				continue
			}
			for _, k := range keys {
				if v, ok := environ[k]; ok {
					p.addUnparsed(k, v, "is not a valid "+describeType(parse.Type))
				}
			}
		default:
			// Other errors (unsupported types, files) name no raw value.
			p.addMsg("config", e.Error())
		}
	}
}

func keysOfField(fields []Field, name string, t reflect.Type) []string {
	var keys []string
	for _, f := range fields {
		if f.FieldName == name && f.Type == t {
			keys = append(keys, f.Key)
		}
	}
	return keys
}

func describeType(t reflect.Type) string {
	switch {
	case t.String() == "time.Duration":
		return "duration: use a number with a unit, such as 500ms, 30s or 2m"
	case t.Kind() == reflect.Bool:
		return "boolean: use true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "integer, such as 10"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return "non-negative integer, such as 10"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number, such as 0.5"
	case t.Kind() == reflect.Slice:
		return "comma-separated list of " + describeType(t.Elem())
	}
	return "value for type " + t.String()
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Var < out[j].Var })
	return out
}

func environMap(kv []string) map[string]string {
	m := make(map[string]string, len(kv))
	for _, s := range kv {
		if k, v, ok := strings.Cut(s, "="); ok {
			m[k] = v
		}
	}
	return m
}
