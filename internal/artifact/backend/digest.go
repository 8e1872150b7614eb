package backend

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm is the only digest algorithm blobs are named by.
const Algorithm = "sha256"

const digestPrefix = Algorithm + ":"

// Digest names a blob: "sha256:" followed by 64 lowercase hex digits.
type Digest string

// ParseDigest checks s and returns it as a Digest.
func ParseDigest(s string) (Digest, error) {
	d := Digest(s)
	if err := d.Validate(); err != nil {
		return "", err
	}
	return d, nil
}

// Validate reports whether d is well formed; the error wraps ErrInvalidDigest.
func (d Digest) Validate() error {
	s := string(d)
	if !strings.HasPrefix(s, digestPrefix) {
		return fmt.Errorf("%w %q: want %q followed by 64 lowercase hex digits", ErrInvalidDigest, clip(s), digestPrefix)
	}
	h := s[len(digestPrefix):]
	if len(h) != 2*sha256.Size {
		return fmt.Errorf("%w %q: want 64 hex digits, got %d", ErrInvalidDigest, clip(s), len(h))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w %q: %q is not a lowercase hex digit", ErrInvalidDigest, clip(s), c)
		}
	}
	return nil
}

// Hex returns the hex part of d (empty if d is malformed).
func (d Digest) Hex() string {
	if d.Validate() != nil {
		return ""
	}
	return string(d[len(digestPrefix):])
}

// String returns d as text.
func (d Digest) String() string { return string(d) }

// Sum returns the digest of b.
func Sum(b []byte) Digest {
	s := sha256.Sum256(b)
	return FromHash(s[:])
}

// FromHash turns a raw 32-byte sha256 sum into a Digest.
func FromHash(sum []byte) Digest {
	return Digest(digestPrefix + hex.EncodeToString(sum))
}

// NewHash returns the hash function digests are computed with.
func NewHash() hash.Hash { return sha256.New() }

// clip shortens untrusted input before it is quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
