package static

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paved-road/paved/discovery"
)

// EnvVar is the environment variable that programs conventionally read the [Parse]
// format from.
const EnvVar = "DISCOVERY_STATIC"

// Version is the Version of the instances [Parse] returns.
const Version = "static"

// Parse reads fixed instances from spec, in the format
//
//	inventory=127.0.0.1:8081,127.0.0.1:8082;orders=grpc://10.0.0.7:9000
//
// entries separated by ';', each a service name, '=', and a comma-separated list of
// addresses. An address is host:port, the HTTP address, or carries a scheme naming its
// kind: http://, grpc:// or admin://. Spaces around items are ignored; an empty spec
// yields an empty map. The instances of service s are named s-1, s-2... in order, have
// version [Version] and status passing. Every problem is reported, naming the entry and
// what would be valid.
func Parse(spec string) (map[string][]discovery.Instance, error) {
	out := map[string][]discovery.Instance{}
	var problems []string
	for i, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, list, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("entry %d %q: want service=host:port[,host:port...]", i+1, entry))
			continue
		}
		if _, dup := out[name]; dup {
			problems = append(problems, fmt.Sprintf("entry %d: service %q listed twice; list all its addresses in one entry", i+1, name))
			continue
		}
		var insts []discovery.Instance
		for _, addr := range strings.Split(list, ",") {
			addr = strings.TrimSpace(addr)
			inst := discovery.Instance{
				ID:      name + "-" + strconv.Itoa(len(insts)+1),
				Service: name,
				Version: Version,
				Status:  discovery.StatusPassing,
			}
			kind, hostport, found := strings.Cut(addr, "://")
			if !found {
				kind, hostport = "http", addr
			}
			switch discovery.AddressKind(kind) {
			case discovery.KindHTTP:
				inst.Addresses.HTTP = hostport
			case discovery.KindGRPC:
				inst.Addresses.GRPC = hostport
			case discovery.KindAdmin:
				inst.Addresses.Admin = hostport
			default:
				problems = append(problems, fmt.Sprintf("entry %d: address %q: scheme must be http, grpc or admin, got %q", i+1, addr, kind))
				continue
			}
			if err := inst.Validate(); err != nil {
				problems = append(problems, fmt.Sprintf("entry %d: address %q: %s", i+1, addr, strings.TrimPrefix(err.Error(), "discovery: invalid instance: ")))
				continue
			}
			insts = append(insts, inst)
		}
		out[name] = insts
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("static: invalid %s: %s", EnvVar, strings.Join(slices.Compact(problems), "; "))
	}
	return out, nil
}
