package discovery

import (
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/problem"
)

// Status is an instance's readiness, carried by each heartbeat: [catalog.Status], the
// one instance status of Paved, so an instance's status reads the same in discovery,
// in every backend and in the catalog.
type Status = catalog.Status

// The statuses an instance may report; Status.Valid reports whether a value is one.
const (
	StatusPassing  = catalog.StatusPassing  // ready for traffic
	StatusWarning  = catalog.StatusWarning  // ready but degraded
	StatusCritical = catalog.StatusCritical // not ready: clients do not send it traffic
)

// AddressKind names one of an instance's addresses.
type AddressKind string

// The kinds of address an instance has.
const (
	KindHTTP  AddressKind = "http"  // the public HTTP server
	KindAdmin AddressKind = "admin" // the admin server: probes, /metrics, /info
	KindGRPC  AddressKind = "grpc"  // the gRPC server
)

// Addresses are where an instance listens, each "host:port". Empty means the instance has
// no server of that kind.
type Addresses struct {
	// HTTP is the public HTTP address.
	HTTP string `json:"http,omitempty"`
	// Admin is the admin address (probes, /metrics).
	Admin string `json:"admin,omitempty"`
	// GRPC is the gRPC address.
	GRPC string `json:"grpc,omitempty"`
}

// Get returns the address of kind k, or "" when there is none or k is unknown.
func (a Addresses) Get(k AddressKind) string {
	switch k {
	case KindHTTP:
		return a.HTTP
	case KindAdmin:
		return a.Admin
	case KindGRPC:
		return a.GRPC
	}
	return ""
}

// TTL limits. A zero [Instance.TTL] means [DefaultTTL].
const (
	DefaultTTL = 30 * time.Second // the TTL when none is set
	MinTTL     = time.Second      // the shortest TTL accepted
	MaxTTL     = 24 * time.Hour   // the longest TTL accepted
)

// Limits on metadata, chosen so every backend (Consul's service meta is the strictest)
// stores it unchanged.
const (
	MaxMetadataKeys     = 64  // keys per instance
	MaxMetadataKeyLen   = 128 // bytes per key
	MaxMetadataValueLen = 512 // bytes per value
)

// Instance is one running copy of a service, as registered and as discovered.
type Instance struct {
	// ID names the instance, unique within its service: 1-128 letters, digits, '.', '_'
	// and '-', starting and ending with a letter or digit. Required.
	ID string `json:"id"`
	// Service is the name of the service (the catalog component) the instance runs: a
	// DNS label ([catalog.IsDNSLabel]: 1-63 lower-case letters, digits and '-', starting
	// and ending with a letter or digit). Required.
	Service string `json:"service"`
	// Version is the version it runs: 1-128 printable ASCII characters, no spaces.
	// Required.
	Version string `json:"version"`
	// Addresses are where it listens; at least one is required.
	Addresses Addresses `json:"addresses"`
	// Status is its readiness. Required: one of passing, warning, critical.
	Status Status `json:"status"`
	// Metadata holds free key/value pairs: at most [MaxMetadataKeys] keys of 1-128
	// letters, digits, '_' and '-'; values at most [MaxMetadataValueLen] bytes.
	Metadata map[string]string `json:"metadata,omitempty"`
	// TTL is how long the registration lives without a heartbeat; heartbeats are sent
	// every TTL/3. Zero means [DefaultTTL]; otherwise between [MinTTL] and [MaxTTL].
	// [Agent] sets it; backends read it when registering. It is not part of the JSON
	// form.
	TTL time.Duration `json:"-"`
}

// Ready reports whether the instance should receive traffic: its status is passing, or
// warning when allowWarning is true.
func (in Instance) Ready(allowWarning bool) bool {
	return in.Status == StatusPassing || (allowWarning && in.Status == StatusWarning)
}

// EffectiveTTL returns TTL, or [DefaultTTL] when TTL is zero.
func (in Instance) EffectiveTTL() time.Duration {
	if in.TTL == 0 {
		return DefaultTTL
	}
	return in.TTL
}

// Clone returns a copy of in that shares no memory with it.
func (in Instance) Clone() Instance {
	in.Metadata = maps.Clone(in.Metadata)
	return in
}

// Validate returns nil, or a [*ValidationError] listing every problem of in, each naming
// the field, the value and what would be valid.
func (in Instance) Validate() error {
	var p []Problem
	add := func(field, format string, args ...any) {
		p = append(p, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case in.ID == "":
		add("id", "is required: 1-128 letters, digits, '.', '_' and '-'")
	case !catalog.IsInstanceID(in.ID):
		add("id", "must be 1-128 letters, digits, '.', '_' and '-', starting and ending with a letter or digit, got %q", clip(in.ID))
	}
	switch {
	case in.Service == "":
		add("service", "is required: a DNS label, "+catalog.DNSLabelRule)
	case !catalog.IsDNSLabel(in.Service):
		add("service", "must be a DNS label, "+catalog.DNSLabelRule+", got %q", clip(in.Service))
	}
	switch {
	case in.Version == "":
		add("version", "is required: 1-128 printable ASCII characters without spaces")
	case !isToken(in.Version):
		add("version", "must be 1-128 printable ASCII characters without spaces, got %q", clip(in.Version))
	}
	if in.Addresses == (Addresses{}) {
		add("addresses", "at least one of http, admin and grpc is required")
	}
	for _, f := range []struct {
		name, value string
	}{{"addresses.http", in.Addresses.HTTP}, {"addresses.admin", in.Addresses.Admin}, {"addresses.grpc", in.Addresses.GRPC}} {
		if f.value == "" {
			continue
		}
		if msg := checkHostPort(f.value); msg != "" {
			add(f.name, "%s, got %q", msg, clip(f.value))
		}
	}
	if !in.Status.Valid() {
		add("status", "must be one of passing, warning, critical, got %q", clip(string(in.Status)))
	}
	if in.TTL != 0 && (in.TTL < MinTTL || in.TTL > MaxTTL) {
		add("ttl", "must be 0 (meaning %v) or between %v and %v, got %v", DefaultTTL, MinTTL, MaxTTL, in.TTL)
	}
	if len(in.Metadata) > MaxMetadataKeys {
		add("metadata", "must have at most %d keys, got %d", MaxMetadataKeys, len(in.Metadata))
	}
	for k, v := range in.Metadata {
		if !isMetaKey(k) {
			add("metadata", "key must be 1-%d letters, digits, '_' and '-', got %q", MaxMetadataKeyLen, clip(k))
		}
		if len(v) > MaxMetadataValueLen {
			add("metadata."+clip(k), "value must be at most %d bytes, got %d", MaxMetadataValueLen, len(v))
		}
	}
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// Problem is one invalid field of an [Instance], a [problem.FieldError]: Field is the
// JSON name of the field, dotted for nested ones ("addresses.http"), and Message says
// what is wrong and what would be valid.
type Problem = problem.FieldError

// ValidationError lists every problem found by [Instance.Validate].
type ValidationError struct {
	// Problems, in field order.
	Problems []Problem
}

// Error returns "discovery: invalid instance: " and the problems, separated by "; ".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("discovery: invalid instance: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(" ")
		b.WriteString(p.Message)
	}
	return b.String()
}

func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be host:port"
	}
	if host == "" {
		return "must name a host (an IP address or a DNS name), as in 10.0.0.7:8080"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "port must be 1-65535"
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() {
			return "host must be a reachable address, not the unspecified address (0.0.0.0 or ::)"
		}
		return ""
	}
	if len(host) > 253 {
		return "host name must be at most 253 characters"
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return "host name must be dot-separated labels of 1-63 characters"
		}
		for _, c := range label {
			if !isAlnum(c) && c != '-' {
				return "host name may hold only letters, digits, '-' and '.'"
			}
		}
	}
	return ""
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidateServiceName returns nil when name is a valid service name, a DNS label
// ([catalog.IsDNSLabel]: 1-63 lower-case letters, digits and '-', starting and ending
// with a letter or digit), and otherwise an error saying what would be valid. Backends
// check the names they watch.
func ValidateServiceName(name string) error {
	if !catalog.IsDNSLabel(name) {
		return fmt.Errorf("discovery: service must be a DNS label, %s, got %q", catalog.DNSLabelRule, clip(name))
	}
	return nil
}

func isToken(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func isMetaKey(s string) bool {
	if len(s) == 0 || len(s) > MaxMetadataKeyLen {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// clip shortens s for error messages so a huge bad value does not flood the logs.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
