package server

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/paved-road/paved/catalog"
)

// Tokens maps bearer tokens to teams. Only SHA-256 hashes of the tokens are kept. The zero
// Tokens knows no token. It is safe for concurrent reads once built.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	team string
	hash [sha256.Size]byte
}

// Add adds a team's token, given in clear; it is stored hashed.
func (t *Tokens) Add(team, token string) error {
	if !catalog.IsDNSLabel(team) {
		return fmt.Errorf("server: team %q must be a DNS label (%s)", team, catalog.DNSLabelRule)
	}
	if len(token) < 16 {
		return fmt.Errorf("server: the token of team %q must be at least 16 characters", team)
	}
	t.entries = append(t.entries, tokenEntry{team: team, hash: sha256.Sum256([]byte(token))})
	return nil
}

// AddHash adds a team's token given as the hex SHA-256 of the token.
func (t *Tokens) AddHash(team, hexHash string) error {
	if !catalog.IsDNSLabel(team) {
		return fmt.Errorf("server: team %q must be a DNS label (%s)", team, catalog.DNSLabelRule)
	}
	b, err := hex.DecodeString(hexHash)
	if err != nil || len(b) != sha256.Size {
		return fmt.Errorf("server: the sha256 of team %q must be 64 hex digits", team)
	}
	e := tokenEntry{team: team}
	copy(e.hash[:], b)
	t.entries = append(t.entries, e)
	return nil
}

// Len returns the number of tokens.
func (t *Tokens) Len() int { return len(t.entries) }

// ParseTokens reads a tokens file (CATALOG_TOKENS_FILE): one "team:token" or
// "team:sha256:HEX" a line; '#' starts a comment; blank lines are skipped. The error
// lists every bad line, one error each joined with errors.Join, each naming its line
// ("server: tokens line 3: ..."); it never quotes a token.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	var errs []error
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		team, secret, ok := strings.Cut(line, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("server: tokens line %d: want team:token or team:sha256:HEX", n))
			continue
		}
		team = strings.TrimSpace(team)
		var err error
		if h, isHash := strings.CutPrefix(secret, "sha256:"); isHash {
			err = t.AddHash(team, strings.TrimSpace(h))
		} else {
			err = t.Add(team, strings.TrimSpace(secret))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("server: tokens line %d: %s", n, strings.TrimPrefix(err.Error(), "server: ")))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("server: reading tokens: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// team returns the team of token, comparing hashes in constant time against every entry.
func (t *Tokens) team(token string) (string, bool) {
	h := sha256.Sum256([]byte(token))
	team, found := "", false
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 && !found {
			team, found = e.team, true
		}
	}
	return team, found
}

// hashEqual compares a token with a stored hash in constant time.
func hashEqual(token string, hash *[sha256.Size]byte) bool {
	if hash == nil {
		return false
	}
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], hash[:]) == 1
}

// noTokensDetail answers a write to a catalog that knows no token, whatever the request
// carries, so that the caller's log points at the catalog's configuration rather than at
// the caller's token.
const noTokensDetail = "the catalog has no tokens configured (no tokens file and no admin token), so it refuses every write: " +
	"its operator must set CATALOG_TOKENS_FILE or CATALOG_ADMIN_TOKEN; the token sent is not the problem"
