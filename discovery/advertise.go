package discovery

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
)

// AdvertiseAddr returns the address to register for a server listening on listen, such
// as "10.0.0.7:8080", ":8080" or "0.0.0.0:8080": listen itself when its host is a specific
// address or name, else host with listen's port. An empty host means the machine's host
// name (os.Hostname), which resolves to the pod's address in Kubernetes; pass the pod IP
// (from the downward API) or the public interface's address to be explicit.
func AdvertiseAddr(listen, host string) (string, error) {
	h, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("discovery: listen address %q: want host:port or :port: %w", listen, err)
	}
	if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) {
		return listen, nil
	}
	if host == "" {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("discovery: listen address %q has no host and the host name is unknown: %w", listen, err)
		}
	}
	addr := net.JoinHostPort(host, port)
	if msg := checkHostPort(addr); msg != "" {
		return "", fmt.Errorf("discovery: advertised address %q: %s", addr, msg)
	}
	return addr, nil
}

// NewInstanceID returns a fresh instance id: the host name (its first label, cleaned to
// the characters ids allow) and 8 random hex digits, as in "web-7d9f-4b1c2e3f". A
// restarted process gets a new id, so its old registration simply expires.
func NewInstanceID() string {
	b := make([]byte, 4)
	rand.Read(b) // never fails (crypto/rand)
	suffix := hex.EncodeToString(b)
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	clean := strings.Map(func(r rune) rune {
		if isAlnum(r) || r == '-' || r == '_' {
			return r
		}
		return -1
	}, host)
	clean = strings.Trim(clean, "-_")
	if len(clean) > 100 {
		clean = clean[:100]
	}
	if clean == "" {
		return "instance-" + suffix
	}
	return clean + "-" + suffix
}
