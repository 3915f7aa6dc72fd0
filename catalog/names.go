package catalog

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on the size of the values a client may write.
const (
	MaxNameLength        = 63   // component, owner and type names: a DNS label
	MaxDescriptionLength = 2048 // characters
	MaxURLLength         = 2048 // bytes
	MaxListItems         = 100  // dependsOn, providesApis, passed and failed rules
	MaxLabels            = 64   // labels and metadata entries
	MaxMetadataValue     = 1024 // bytes
	MaxIDLength          = 128  // instance ids, versions, rule ids
)

// DNSLabelRule says what [IsDNSLabel] accepts, for error messages.
const DNSLabelRule = "1-63 lower-case letters, digits and '-', starting and ending with a letter or digit"

// IsDNSLabel reports whether s is an RFC 1123 DNS label: 1–63 lower-case letters, digits
// and '-', starting and ending with a letter or digit. It is Paved's one name rule:
// component, owner, team and type names in the catalog, service names in discovery,
// SERVICE_NAME, and the dependency names of the transports' clients are DNS labels.
func IsDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

func checkDNSLabel(p *problems, field, s string) {
	if s == "" {
		p.add(field, "is required: a DNS label ("+DNSLabelRule+")")
		return
	}
	if !IsDNSLabel(s) {
		p.add(field, "must be a DNS label ("+DNSLabelRule+"), got %q", Clip(s))
	}
}

// isLabelName reports whether s is the name part of a label key, or a non-empty label
// value: 1–63 characters of [A-Za-z0-9_.-], starting and ending with a letter or digit.
func isLabelName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c == '-' || c == '_' || c == '.') && i > 0 && i < len(s)-1 {
			continue
		}
		return false
	}
	return true
}

// isDNSSubdomain reports whether s is an RFC 1123 subdomain: dot-separated DNS labels, at
// most 253 characters.
func isDNSSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !IsDNSLabel(l) {
			return false
		}
	}
	return true
}

// checkLabelKey checks a key with Kubernetes rules: an optional DNS subdomain prefix and
// '/', then a name of 1-63 characters.
func checkLabelKey(p *problems, field, k string) {
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if !isDNSSubdomain(prefix) {
			p.add(field, "key prefix must be a DNS subdomain (lower-case, at most 253 characters), got %q", Clip(prefix))
			return
		}
	}
	if !isLabelName(name) {
		p.add(field, "key must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, optionally after a DNS subdomain prefix and '/', got %q", Clip(k))
	}
}

func checkLabels(p *problems, field string, m map[string]string, valueRule func(p *problems, field, v string)) {
	if len(m) > MaxLabels {
		p.add(field, "at most %d entries, got %d", MaxLabels, len(m))
		return
	}
	for _, k := range sortedKeys(m) {
		f := field + "[" + Clip(k) + "]"
		checkLabelKey(p, f, k)
		valueRule(p, f, m[k])
	}
}

func labelValueRule(p *problems, field, v string) {
	if v != "" && !isLabelName(v) {
		p.add(field, "value must be empty or 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got %q", Clip(v))
	}
}

func metadataValueRule(p *problems, field, v string) {
	if len(v) > MaxMetadataValue {
		p.add(field, "value must be at most %d bytes, got %d", MaxMetadataValue, len(v))
	}
}

// isToken reports whether s is 1–128 printable ASCII characters without spaces: instance
// ids, versions, rule ids.
func isToken(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// IsInstanceID reports whether s can name an instance: 1–128 letters, digits, '.', '_'
// and '-', starting and ending with a letter or digit. Ids appear in URL paths.
func IsInstanceID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c == '-' || c == '_' || c == '.') && i > 0 && i < len(s)-1 {
			continue
		}
		return false
	}
	return true
}

func checkHTTPURL(p *problems, field, s string) {
	if s == "" {
		return
	}
	if len(s) > MaxURLLength {
		p.add(field, "must be at most %d bytes, got %d", MaxURLLength, len(s))
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		p.add(field, "must be an http or https URL, got %q", Clip(s))
		return
	}
	if u.User != nil {
		p.add(field, "must not contain credentials")
	}
}

func checkText(p *problems, field, s string, max int) {
	if !utf8.ValidString(s) {
		p.add(field, "must be valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.add(field, "must be at most %d characters, got %d", max, n)
	}
}

// Clip shortens a value to quote in an error message (64 bytes and "..."), so a
// hostile body cannot make an error message as large as itself.
func Clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
