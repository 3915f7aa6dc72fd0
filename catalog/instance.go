package catalog

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Status is an instance's readiness, reported with each heartbeat. It is Paved's one
// instance status: discovery.Status is this type. (A health check's pass/warn/fail and
// a compliance rule's pass/fail are other concepts, with types of their own.)
type Status string

// The statuses an instance may report. An instance that misses heartbeats for its TTL is
// marked critical by the catalog.
const (
	StatusPassing  Status = "passing"  // ready
	StatusWarning  Status = "warning"  // ready but degraded
	StatusCritical Status = "critical" // not ready
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	return s == StatusPassing || s == StatusWarning || s == StatusCritical
}

// FailingChecksMetadata is the instance metadata key under which a Paved service
// reports the readiness checks that failed (or warned) at its last heartbeat, comma
// separated and sorted, such as "db,inventory"; absent when every check passes. The
// catalog's incident view shows it.
const FailingChecksMetadata = "failing_checks"

// TTL bounds for an instance.
const (
	MinTTLSeconds = 1
	MaxTTLSeconds = 24 * 60 * 60
)

// Addresses are where an instance listens, each "host:port" (an IP address or a host
// name, and a port 1-65535). At least one is required. Link-local, unspecified and
// multicast addresses and the cloud metadata endpoints (169.254.169.254,
// fd00:ec2::254, 100.100.100.200, metadata.google.internal...) are rejected.
type Addresses struct {
	// HTTP is the public HTTP address.
	HTTP string `json:"http,omitempty"`
	// Admin is the admin address (probes, /metrics); Prometheus scrapes it.
	Admin string `json:"admin,omitempty"`
	// GRPC is the gRPC address.
	GRPC string `json:"grpc,omitempty"`
}

// Instance is one running copy of a component. Its JSON form is the body of
// PUT /api/v1/components/{name}/instances/{id}, which registers the instance or, when it
// exists, heartbeats it.
type Instance struct {
	// ID names the instance within its component (see [IsInstanceID]). Required.
	ID string `json:"id"`
	// Component is the name of the component it runs. Required.
	Component string `json:"component"`
	// Version is the version it runs: 1-128 printable ASCII characters, no spaces.
	// Required.
	Version string `json:"version"`
	// Addresses are where it listens; at least one is required.
	Addresses Addresses `json:"addresses"`
	// StartedAt is when the process started. Required.
	StartedAt time.Time `json:"startedAt"`
	// LastHeartbeat is when the catalog last heard from the instance. The store sets it;
	// a value sent by a client is ignored.
	LastHeartbeat time.Time `json:"lastHeartbeat,omitzero"`
	// TTLSeconds is how long the instance stays passing without a heartbeat: after it
	// the catalog marks it critical, and after a further grace period removes it.
	// Between [MinTTLSeconds] and [MaxTTLSeconds]. Clients heartbeat every TTL/3.
	TTLSeconds int `json:"ttlSeconds"`
	// Status is the readiness the instance reports. Required.
	Status Status `json:"status"`
	// Expired is set by the store when the instance missed heartbeats for its TTL; its
	// Status is then critical. A value sent by a client is ignored.
	Expired bool `json:"expired,omitempty"`
	// Metadata holds free key/value pairs: keys follow the label key rules of
	// [Component.Labels], values are at most 1024 bytes.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// TTL returns TTLSeconds as a duration.
func (in *Instance) TTL() time.Duration { return time.Duration(in.TTLSeconds) * time.Second }

// Healthy reports whether the instance is ready for traffic: its status is passing or
// warning.
func (in *Instance) Healthy() bool {
	return in.Status == StatusPassing || in.Status == StatusWarning
}

// Validate returns nil, or a [*ValidationError] listing every problem of in. The
// store-managed fields LastHeartbeat and Expired are not checked.
func (in *Instance) Validate() error {
	var p problems
	switch {
	case in.ID == "":
		p.add("id", "is required: 1-128 letters, digits, '.', '_' and '-'")
	case !IsInstanceID(in.ID):
		p.add("id", "must be 1-128 letters, digits, '.', '_' and '-', starting and ending with a letter or digit, got %q", Clip(in.ID))
	}
	checkDNSLabel(&p, "component", in.Component)
	switch {
	case in.Version == "":
		p.add("version", "is required: 1-128 printable ASCII characters without spaces")
	case !isToken(in.Version):
		p.add("version", "must be 1-128 printable ASCII characters without spaces, got %q", Clip(in.Version))
	}
	if in.Addresses == (Addresses{}) {
		p.add("addresses", "at least one of http, admin and grpc is required")
	}
	checkAddress(&p, "addresses.http", in.Addresses.HTTP)
	checkAddress(&p, "addresses.admin", in.Addresses.Admin)
	checkAddress(&p, "addresses.grpc", in.Addresses.GRPC)
	if in.StartedAt.IsZero() {
		p.add("startedAt", "is required: an RFC 3339 time")
	}
	if in.TTLSeconds < MinTTLSeconds || in.TTLSeconds > MaxTTLSeconds {
		p.add("ttlSeconds", "must be between %d and %d, got %d", MinTTLSeconds, MaxTTLSeconds, in.TTLSeconds)
	}
	if !in.Status.Valid() {
		p.add("status", "must be one of passing, warning, critical, got %q", Clip(string(in.Status)))
	}
	checkLabels(&p, "metadata", in.Metadata, metadataValueRule)
	return p.err()
}

// isMetadataHost reports whether h names a cloud metadata service.
func isMetadataHost(h string) bool {
	switch strings.TrimSuffix(strings.ToLower(h), ".") {
	case "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
		"instance-data.ec2.internal", "metadata.azure.internal":
		return true
	}
	return false
}

// CheckAddress reports whether addr is acceptable as an instance address and, when it is
// not, why. See [Addresses].
func CheckAddress(addr string) (ok bool, why string) {
	var p problems
	checkAddress(&p, "", addr)
	if len(p.errs) > 0 {
		return false, p.errs[0].Message
	}
	return true, ""
}

func checkAddress(p *problems, field, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		p.add(field, "must be host:port, such as 10.0.0.7:8080 or orders.internal:8080, got %q", Clip(addr))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		p.add(field, "port must be a number from 1 to 65535, got %q", Clip(port))
		return
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := badIP(ip); why != "" {
			p.add(field, "%s, got %q", why, Clip(host))
		}
		return
	}
	if strings.Contains(host, ":") || strings.Contains(host, "%") {
		p.add(field, "host must be an IP address or a DNS name, got %q", Clip(host))
		return
	}
	name := strings.TrimSuffix(host, ".")
	if !isDNSSubdomain(strings.ToLower(name)) {
		p.add(field, "host must be an IP address or a DNS name, got %q", Clip(host))
		return
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; last[0] >= '0' && last[0] <= '9' {
		p.add(field, "host must be a dotted IP address or a DNS name whose last label starts with a letter, got %q", Clip(host))
		return
	}
	if isMetadataHost(name) {
		p.add(field, "must not be a cloud metadata endpoint, got %q", Clip(host))
	}
}

// badIP says why ip may not be an instance address, or "" when it may.
func badIP(ip netip.Addr) string {
	if ip.Zone() != "" {
		return "must not have a zone"
	}
	ip = ip.Unmap()
	// IPv4 embedded in IPv6 by NAT64 (64:ff9b::/96), 6to4 (2002::/16) or the deprecated
	// IPv4-compatible form (::/96) is checked as the IPv4 address it carries.
	if ip.Is6() {
		b := ip.As16()
		switch {
		case netip.PrefixFrom(netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b}), 96).Contains(ip),
			b == [16]byte{12: b[12], 13: b[13], 14: b[14], 15: b[15]} && !ip.IsLoopback() && !ip.IsUnspecified():
			ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case b[0] == 0x20 && b[1] == 0x02:
			ip = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
	}
	switch {
	case ip.IsUnspecified():
		return "must not be an unspecified address (0.0.0.0 or ::); register the address others reach"
	case ip.IsLinkLocalUnicast():
		return "must not be a link-local address (169.254.0.0/16 or fe80::/10), where cloud metadata endpoints live"
	case ip.IsMulticast():
		return "must not be a multicast address"
	case ip == netip.AddrFrom4([4]byte{100, 100, 100, 200}),
		ip == netip.MustParseAddr("fd00:ec2::254"),
		ip == netip.AddrFrom4([4]byte{192, 0, 0, 192}):
		return "must not be a cloud metadata endpoint"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "must not be the broadcast address"
	}
	return ""
}
