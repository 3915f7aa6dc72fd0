package service

import (
	"fmt"
	"io"
	"reflect"
	"strings"
)

// WriteConfigReference writes a Markdown table of the settings of the struct cfg points
// to, one row a variable: name, type, default, description (from the desc tag), and
// whether it is secret or required. docs/configuration.md is written with it, and a
// test keeps the two in step.
func WriteConfigReference(w io.Writer, cfg any) error {
	if _, err := fmt.Fprintln(w, "| variable | type | default | description |"); err != nil {
		return err
	}
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, f := range Fields(cfg) {
		def := "—"
		if f.HasDefault {
			def = "`" + shownValue(f.Secret, f.Default) + "`"
			if f.Default == "" {
				def = "empty"
			}
		}
		desc := f.Desc
		if f.Required {
			desc += " **Required.**"
		}
		if f.Secret {
			desc += " **Secret:** never logged or shown."
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", f.Key, typeName(f.Type), def, strings.ReplaceAll(desc, "|", "\\|"))
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t.String() == "time.Duration":
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "number"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	}
	return t.Kind().String()
}
