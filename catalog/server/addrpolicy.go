package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Resolver resolves the host names of instance addresses. *net.Resolver implements it;
// tests give a fake.
type Resolver interface {
	// LookupNetIP returns the addresses of host; network is "ip".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DefaultResolveTimeout bounds the resolution of one host name when Options.ResolveTimeout
// is zero.
const DefaultResolveTimeout = 2 * time.Second

// nameVerdictTTL is how long /api/v1/targets trusts the last resolution of a host name
// before resolving it again.
const nameVerdictTTL = time.Minute

// resolveParallel bounds the resolutions /api/v1/targets runs at once.
const resolveParallel = 8

// The private ranges: RFC 1918 and the IPv6 unique local addresses (RFC 4193).
var privateNetworks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// The loopback ranges.
var loopbackNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// DefaultAllowedNetworks returns the networks instance addresses may be in when
// CATALOG_ALLOWED_NETWORKS is not set. In development: loopback (127.0.0.0/8, ::1/128)
// and the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7).
// Elsewhere: every address (0.0.0.0/0, ::/0), that is private ranges and public
// addresses; loopback is not in it, as only a network inside a loopback range allows
// loopback (see [Options.AllowedNetworks]). Link-local, unspecified, multicast and the
// cloud metadata addresses are refused whatever the list.
func DefaultAllowedNetworks(development bool) []netip.Prefix {
	if development {
		return slices.Concat(loopbackNetworks, privateNetworks)
	}
	return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
}

// ParseNetworks parses CATALOG_ALLOWED_NETWORKS: CIDRs such as 10.0.0.0/8 or fd00::/8,
// blanks around them ignored. The error lists every bad entry, one joined error each
// (errors.Join), saying what is wrong: not a CIDR, host bits set (with the network
// meant), a bare address (with its /32 or /128), or a network whose every address is
// always refused (link-local, multicast, unspecified).
func ParseNetworks(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, raw := range entries {
		e := strings.TrimSpace(raw)
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%q: %s", catalog.Clip(e), fmt.Sprintf(format, args...)))
		}
		if e == "" {
			bad("is empty: want a CIDR such as 10.0.0.0/8")
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			if ip, ierr := netip.ParseAddr(e); ierr == nil {
				bad("is an address, not a network: write %s", netip.PrefixFrom(ip, ip.BitLen()))
				continue
			}
			bad("is not a CIDR: want a network such as 10.0.0.0/8 or fd00::/8")
			continue
		}
		if p.Addr().Zone() != "" {
			bad("must not have a zone")
			continue
		}
		if p.Masked() != p {
			bad("has host bits set: did you mean %s?", p.Masked())
			continue
		}
		if why := neverAllowedNetwork(p); why != "" {
			bad("is %s: instance addresses there are always refused", why)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// neverAllowedNetwork says why every address of p is always refused, or "".
func neverAllowedNetwork(p netip.Prefix) string {
	for _, n := range []struct {
		p   netip.Prefix
		why string
	}{
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
		{netip.MustParsePrefix("0.0.0.0/32"), "the unspecified address"},
		{netip.MustParsePrefix("::/128"), "the unspecified address"},
	} {
		if n.p.Bits() <= p.Bits() && n.p.Contains(p.Addr()) {
			return n.why
		}
	}
	return ""
}

// addressPolicy decides which instance addresses the catalog accepts and publishes. It is
// safe for concurrent use.
type addressPolicy struct {
	allowed  []netip.Prefix // every allowed network
	loopback []netip.Prefix // those of allowed inside a loopback range: they alone allow loopback
	resolver Resolver
	timeout  time.Duration
	describe string // the policy, for messages
	now      func() time.Time

	// mu guards names, the last verdict on each host name.
	mu    sync.Mutex
	names map[string]nameVerdict
}

// nameVerdict is the outcome of resolving a host name and checking its addresses.
type nameVerdict struct {
	why string // "" when every address is allowed
	at  time.Time
}

func newAddressPolicy(opts Options) *addressPolicy {
	p := &addressPolicy{resolver: opts.Resolver, timeout: opts.ResolveTimeout, now: time.Now, names: map[string]nameVerdict{}}
	dev := opts.Development || opts.Open
	switch {
	case opts.AllowedNetworks != nil:
		p.allowed = slices.Clone(opts.AllowedNetworks)
		list := make([]string, len(p.allowed))
		for i, n := range p.allowed {
			list[i] = n.String()
		}
		p.describe = "CATALOG_ALLOWED_NETWORKS=" + strings.Join(list, ",")
	case dev:
		p.allowed = DefaultAllowedNetworks(true)
		p.describe = "the development default: loopback and private networks (127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)"
	default:
		p.allowed = DefaultAllowedNetworks(false)
		p.describe = "the default outside development: private networks and public addresses, never loopback"
	}
	for _, n := range p.allowed {
		n = n.Masked()
		if slices.ContainsFunc(loopbackNetworks, func(l netip.Prefix) bool { return l.Bits() <= n.Bits() && l.Contains(n.Addr()) }) {
			p.loopback = append(p.loopback, n)
		}
	}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	if p.timeout <= 0 {
		p.timeout = DefaultResolveTimeout
	}
	return p
}

// effective returns the IPv4 address that an IPv4-mapped, NAT64 (64:ff9b::/96), 6to4
// (2002::/16) or IPv4-compatible address carries, else ip itself, without a zone.
func effective(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if !ip.Is6() {
		return ip
	}
	b := ip.As16()
	switch {
	case netip.MustParsePrefix("64:ff9b::/96").Contains(ip),
		b == [16]byte{12: b[12], 13: b[13], 14: b[14], 15: b[15]} && !ip.IsLoopback() && !ip.IsUnspecified():
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	case b[0] == 0x20 && b[1] == 0x02:
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}
	return ip
}

// checkIP says why ip is refused ("is a loopback address...", "must not be a multicast
// address..."), or "" when the policy allows it.
func (p *addressPolicy) checkIP(ip netip.Addr) string {
	// The rules of every instance address (link-local, unspecified, multicast, the
	// cloud metadata addresses) have one home: catalog's address check.
	if ok, why := catalog.CheckAddress(netip.AddrPortFrom(ip, 1).String()); !ok {
		return why
	}
	e := effective(ip)
	if e.IsLoopback() {
		for _, n := range p.loopback {
			if n.Contains(e) {
				return ""
			}
		}
		return "is a loopback address, allowed only when CATALOG_ALLOWED_NETWORKS lists a loopback network such as 127.0.0.0/8"
	}
	for _, n := range p.allowed {
		if n.Contains(e) || n.Contains(ip.WithZone("")) {
			return ""
		}
	}
	return "is not in an allowed network"
}

// isLocalhost reports whether name is localhost, which is loopback without resolving.
func isLocalhost(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// check says why the address hostport ("host:port") is refused, or "" when it is allowed.
// A host name is resolved (within the timeout) and allowed only when every address it
// resolves to is. An address that is not host:port is left to the instance's validation.
func (p *addressPolicy) check(ctx context.Context, hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return ""
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := p.checkIP(ip); why != "" {
			return ip.String() + " " + why
		}
		return ""
	}
	v := p.resolve(ctx, host)
	p.remember(host, v)
	return v.why
}

// resolve resolves a host name and checks every address it resolves to.
func (p *addressPolicy) resolve(ctx context.Context, host string) nameVerdict {
	v := nameVerdict{at: p.now()}
	if ok, why := catalog.CheckAddress(net.JoinHostPort(host, "1")); !ok {
		v.why = fmt.Sprintf("host %q: %s", catalog.Clip(host), why)
		return v
	}
	var addrs []netip.Addr
	if isLocalhost(host) {
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	} else {
		ctx, cancel := context.WithTimeout(ctx, p.timeout)
		var err error
		addrs, err = p.resolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil || len(addrs) == 0 {
			v.why = fmt.Sprintf("host %q does not resolve (%s): register an IP address or a name that resolves", catalog.Clip(host), resolveError(err, p.timeout))
			return v
		}
	}
	for _, a := range addrs {
		if why := p.checkIP(a); why != "" {
			v.why = fmt.Sprintf("host %q resolves to %s, which %s", catalog.Clip(host), a.Unmap(), why)
			return v
		}
	}
	return v
}

// resolveError says briefly why a resolution failed.
func resolveError(err error, timeout time.Duration) string {
	var de *net.DNSError
	switch {
	case err == nil:
		return "no addresses"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &de) && de.IsTimeout:
		return "no answer within " + timeout.String()
	case errors.As(err, &de) && de.IsNotFound:
		return "no such host"
	case errors.As(err, &de):
		return catalog.Clip(de.Err)
	}
	return catalog.Clip(err.Error())
}

// remember keeps the verdict on a host name for /api/v1/targets.
func (p *addressPolicy) remember(host string, v nameVerdict) {
	key := strings.ToLower(host)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.names) >= 4096 {
		p.pruneLocked()
	}
	p.names[key] = v
}

func (p *addressPolicy) pruneLocked() {
	for k, v := range p.names {
		if p.now().Sub(v.at) >= nameVerdictTTL {
			delete(p.names, k)
		}
	}
}

// publishable returns the filter /api/v1/targets applies to admin addresses: IP literals
// are checked again; host names by their last resolution when it is less than a minute
// old, else resolved again (at most 8 at once), so a name that now resolves outside the
// policy is not published.
func (p *addressPolicy) publishable(ctx context.Context, addrs []string) func(string) bool {
	hostOf := func(hostport string) (string, bool) {
		host, _, err := net.SplitHostPort(hostport)
		if err != nil || host == "" {
			return "", false
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return "", false
		}
		return strings.ToLower(host), true
	}
	verdicts := map[string]string{}
	var stale []string
	p.mu.Lock()
	p.pruneLocked()
	for _, a := range addrs {
		host, isName := hostOf(a)
		if !isName {
			continue
		}
		if _, done := verdicts[host]; done {
			continue
		}
		if v, ok := p.names[host]; ok {
			verdicts[host] = v.why
			continue
		}
		verdicts[host] = "unresolved"
		stale = append(stale, host)
	}
	p.mu.Unlock()

	if len(stale) > 0 {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, resolveParallel)
		for _, host := range stale {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				v := p.resolve(ctx, host)
				p.remember(host, v)
				mu.Lock()
				verdicts[host] = v.why
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	return func(hostport string) bool {
		host, isName := hostOf(hostport)
		if !isName {
			return p.check(ctx, hostport) == ""
		}
		return verdicts[host] == ""
	}
}

// addressFields lists an instance's addresses with their field names.
func addressFields(a catalog.Addresses) [3][2]string {
	return [3][2]string{{"addresses.http", a.HTTP}, {"addresses.admin", a.Admin}, {"addresses.grpc", a.GRPC}}
}

// checkAddresses checks the addresses of an instance being written against the policy
// and returns one field error per refused address. An address equal to the one stored
// for the same field (a heartbeat that changes nothing) is not checked again, so a
// heartbeat resolves nothing; prev is read only when an address needs more than an IP
// check.
func (s *Server) checkAddresses(ctx context.Context, in catalog.Instance) ([]catalog.FieldError, error) {
	fields := addressFields(in.Addresses)
	var pending []int
	for i, f := range fields {
		if f[1] == "" {
			continue
		}
		host, _, err := net.SplitHostPort(f[1])
		if err != nil {
			continue // the instance's validation reports it
		}
		if ip, err := netip.ParseAddr(host); err == nil && s.policy.checkIP(ip) == "" {
			continue
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return nil, nil
	}
	var prev [3][2]string
	old, err := s.st.GetInstance(ctx, in.Component, in.ID)
	switch {
	case err == nil:
		prev = addressFields(old.Addresses)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	var errs []catalog.FieldError
	for _, i := range pending {
		f := fields[i]
		if prev[i][1] == f[1] {
			continue
		}
		if why := s.policy.check(ctx, f[1]); why != "" {
			errs = append(errs, catalog.FieldError{Field: f[0], Message: strconv.Quote(catalog.Clip(f[1])) +
				" is refused by the address policy (" + s.policy.describe + "): " + why})
		}
	}
	return errs, nil
}

// admitAddresses checks the instance being written, its addresses against the policy
// first, and writes one 400 problem listing every refused address and every other
// invalid field; it returns false then.
func (s *Server) admitAddresses(w http.ResponseWriter, r *http.Request, in catalog.Instance) bool {
	refused, err := s.checkAddresses(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	verr := in.Validate()
	if len(refused) == 0 {
		if verr != nil {
			s.fail(w, r, verr)
			return false
		}
		return true
	}
	var ve *catalog.ValidationError
	if errors.As(verr, &ve) {
		for _, fe := range ve.Errors {
			if !slices.ContainsFunc(refused, func(p catalog.FieldError) bool { return p.Field == fe.Field }) {
				refused = append(refused, fe)
			}
		}
	}
	s.problem(w, r, http.StatusBadRequest, "the catalog's address policy refuses an address of the instance", refused)
	return false
}
