// Package static is the discovery backend without a registry server: fixed lists of
// instances, given in code or parsed from an environment variable (see [Parse]), and
// [Registry], an in-memory registry for tests and single-process setups.
//
// [Registry] implements [discovery.Registrar]; its [Registry.Instancer] and the fixed
// [NewInstancer] return [*Instancer], a [discovery.Instancer] (and so a go-kit
// sd.Instancer) that passes on only ready instances.
//
// Everything here is safe for concurrent use. The zero [Registry] is an empty registry
// ready to use.
package static
