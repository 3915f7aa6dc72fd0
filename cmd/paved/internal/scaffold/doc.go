// Package scaffold is the engine of `paved new`: it renders a service template (a
// directory of files, *.tmpl ones through text/template) with a module path, a component
// name, an owner and catalog metadata, adds a go.mod and a Backstage catalog-info.yaml
// made from the same metadata, and writes the result into an empty directory.
//
// A template is a directory of the file system handed to [Render]; adding a template is
// adding a directory. [Write] refuses a non-empty directory and removes what it wrote
// when a write fails, so a failed run leaves nothing behind.
//
// The functions keep no state and are safe for concurrent use. The zero [Params] is not
// valid: Module and Owner are required; an empty Name is derived from Module.
package scaffold
