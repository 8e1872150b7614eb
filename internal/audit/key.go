package audit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// KeyName names the audit key in signed checkpoints.
const KeyName = "phoenix-audit"

// Key signs and verifies checkpoints.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the public key in note format; keep a copy away
	// from the server to check its checkpoints independently.
	VerifierKey string
}

// LoadKey reads the key at path (the signer key, then the verifier key,
// one a line), creating it with mode 0600 when it does not exist.
func LoadKey(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return Key{}, fmt.Errorf("audit key: %w", err)
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return Key{}, fmt.Errorf("audit key %s: want 2 lines (signer and verifier key), found %d", path, len(lines))
	}
	return parseKey(lines[0], lines[1])
}

func parseKey(skey, vkey string) (Key, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return Key{}, fmt.Errorf("audit key: signer: malformed")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Key{}, fmt.Errorf("audit key: verifier: %w", err)
	}
	if s.KeyHash() != v.KeyHash() || s.Name() != v.Name() {
		return Key{}, errors.New("audit key: signer and verifier keys do not match")
	}
	return Key{Signer: s, Verifier: v, VerifierKey: vkey}, nil
}

func createKey(path string) (Key, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, KeyName)
	if err != nil {
		return Key{}, fmt.Errorf("audit key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Key{}, fmt.Errorf("audit key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Key{}, fmt.Errorf("audit key: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s\n%s\n", skey, vkey)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Key{}, fmt.Errorf("audit key: write %s: %w", path, err)
	}
	return parseKey(skey, vkey)
}

// ParseKey reads a key in the form LoadKey stores: the signer key, then the
// verifier key, one a line.
func ParseKey(b []byte) (Key, error) {
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return Key{}, fmt.Errorf("audit key: want 2 lines (signer and verifier key), found %d", len(lines))
	}
	return parseKey(lines[0], lines[1])
}

// GenerateKey makes a new key and returns it with its stored form (the
// bytes ParseKey reads), for callers that keep it somewhere other than a
// file, e.g. the vault.
func GenerateKey() (Key, []byte, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, KeyName)
	if err != nil {
		return Key{}, nil, fmt.Errorf("audit key: %w", err)
	}
	k, err := parseKey(skey, vkey)
	return k, []byte(skey + "\n" + vkey + "\n"), err
}

// ParseVerifier reads a verifier key (the public half, in note format).
func ParseVerifier(vkey string) (Key, error) {
	vkey = strings.TrimSpace(vkey)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Key{}, fmt.Errorf("audit verifier key: %w", err)
	}
	return Key{Verifier: v, VerifierKey: vkey}, nil
}
