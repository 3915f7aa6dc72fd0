package service

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/paved-road/paved/telemetry"
)

// Field describes one setting of a config struct: its variable, default, description
// and whether it is secret. [Fields] lists them; docs/configuration.md is generated from
// them and /config shows their values.
type Field struct {
	// Key is the environment variable, prefixes included.
	Key string
	// FieldName is the Go field name; Path the dotted path from the root struct.
	FieldName, Path string
	// Type is the field's Go type.
	Type reflect.Type
	// Default is the envDefault value; HasDefault tells an empty default from none.
	Default    string
	HasDefault bool
	// Required reports the env tag's required or notEmpty option.
	Required bool
	// Secret reports a secret:"true" tag or a secret-looking name ([IsSecretName]).
	Secret bool
	// Desc is the desc tag: one line for the configuration reference.
	Desc string

	value reflect.Value
}

// Fields lists the settings of the struct that cfg points to, in declaration order,
// following embedded and nested structs and their envPrefix tags as caarlos0/env does.
func Fields(cfg any) []Field {
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	walkFields(v, "", "", &out)
	return out
}

func walkFields(v reflect.Value, prefix, path string, out *[]Field) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		key, opts, _ := strings.Cut(sf.Tag.Get("env"), ",")
		p := sf.Name
		if path != "" {
			p = path + "." + sf.Name
		}
		if key == "-" {
			continue
		}
		if key == "" {
			inner := fv
			if inner.Kind() == reflect.Pointer && inner.Type().Elem().Kind() == reflect.Struct {
				if inner.IsNil() {
					inner = reflect.New(inner.Type().Elem()).Elem()
				} else {
					inner = inner.Elem()
				}
			}
			if inner.Kind() == reflect.Struct {
				walkFields(inner, prefix+sf.Tag.Get("envPrefix"), p, out)
			}
			continue
		}
		def, hasDef := sf.Tag.Lookup("envDefault")
		full := prefix + key
		*out = append(*out, Field{
			Key:        full,
			FieldName:  sf.Name,
			Path:       p,
			Type:       sf.Type,
			Default:    def,
			HasDefault: hasDef,
			Required:   strings.Contains(opts, "required") || strings.Contains(opts, "notEmpty"),
			Secret:     sf.Tag.Get("secret") == "true" || IsSecretName(full),
			Desc:       sf.Tag.Get("desc"),
			value:      fv,
		})
	}
}

// IsSecretName reports whether a variable's name marks it as a secret: it holds TOKEN,
// SECRET, PASSWORD, PASSWD, CREDENTIAL, PRIVATE_KEY, API_KEY or HEADERS, and does not
// end in _FILE, _PATH or _DIR (which name where a secret is, not the secret). Such
// values are redacted even without a secret:"true" tag.
func IsSecretName(key string) bool {
	k := strings.ToUpper(key)
	for _, suffix := range []string{"_FILE", "_PATH", "_DIR"} {
		if strings.HasSuffix(k, suffix) {
			return false
		}
	}
	for _, s := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE_KEY", "API_KEY", "HEADERS"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Settings returns the effective settings of the struct cfg points to, keyed by
// variable, formatted as they would be written in the environment, with every secret
// that is set replaced by "[REDACTED]" and the user information of every URL replaced
// by "xxxxx" (https://user:xxxxx@host). /config serves it.
func Settings(cfg any) map[string]string {
	fields := Fields(cfg)
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		m[f.Key] = f.display()
	}
	return m
}

// shownValue is a setting's value as Paved may show it anywhere (/config, configuration
// errors, logs, the generated reference): "[REDACTED]" for a secret that is set, and
// otherwise the value with the user information of any URL in it redacted
// ([telemetry.RedactURL]), so a password in CATALOG_URL, an OTLP endpoint or a team's
// DATABASE_URL never shows. It is the one place that decides what of a value is shown.
func shownValue(secret bool, value string) string {
	if value == "" {
		return ""
	}
	if secret {
		return redacted
	}
	return telemetry.RedactURL(value)
}

func (f Field) display() string {
	if !f.value.IsValid() {
		return ""
	}
	if f.Secret {
		if f.value.IsZero() {
			return ""
		}
		return redacted
	}
	v := f.value
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return shownValue(false, s.String())
	}
	// Lists and maps are redacted element by element, so each URL keeps its host.
	switch v.Kind() {
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = shownValue(false, fmt.Sprint(v.Index(i).Interface()))
		}
		return strings.Join(parts, ",")
	case reflect.Map:
		keys := v.MapKeys()
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, shownValue(false, fmt.Sprintf("%v:%v", k.Interface(), v.MapIndex(k).Interface())))
		}
		return strings.Join(parts, ",")
	}
	return shownValue(false, fmt.Sprint(v.Interface()))
}
