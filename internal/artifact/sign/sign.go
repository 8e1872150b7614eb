// Package sign makes and checks detached minisign signatures (Ed25519,
// https://jedisct1.github.io/minisign/), so a release signed by Phoenix can be
// checked with the stock `minisign -V` tool and vice versa.
//
// Keys are kept in minisign's file formats. A private key file is written with
// mode 0600 and may be encrypted with a password (minisign's scrypt scheme).
// PrivateKey never prints its key material: String and GoString redact it.
package sign

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"aead.dev/minisign"
)

// ErrBadSignature is returned (wrapped) when a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// MaxSignatureSize bounds the signature text Verify and ParseSignature accept.
const MaxSignatureSize = 4096

// PublicKey verifies signatures.
type PublicKey struct{ k minisign.PublicKey }

// PrivateKey makes signatures. Its String method redacts the key.
type PrivateKey struct{ k minisign.PrivateKey }

// GenerateKey makes a new key pair from random (crypto/rand if nil).
func GenerateKey(random io.Reader) (PublicKey, PrivateKey, error) {
	if random == nil {
		random = rand.Reader
	}
	pub, priv, err := minisign.GenerateKey(random)
	if err != nil {
		return PublicKey{}, PrivateKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	return PublicKey{pub}, PrivateKey{priv}, nil
}

// ID returns the key ID as minisign prints it (uppercase hex).
func (p PublicKey) ID() string { return keyID(p.k.ID()) }

// String returns the one-line base64 form ("RWQ..."), as `minisign -P` takes it.
func (p PublicKey) String() string { return p.k.String() }

// IsZero reports whether p is the zero value (no key).
func (p PublicKey) IsZero() bool { return p.k.ID() == 0 && p.k.Equal(minisign.PublicKey{}) }

// Equal reports whether p and q are the same key.
func (p PublicKey) Equal(q PublicKey) bool { return p.k.Equal(q.k) }

// MarshalText returns the public key file contents.
func (p PublicKey) MarshalText() ([]byte, error) {
	b, _ := p.k.MarshalText()
	return append(b, '\n'), nil
}

// ParsePublicKey accepts a public key file's contents or its base64 line.
func ParsePublicKey(text []byte) (PublicKey, error) {
	var k minisign.PublicKey
	if err := k.UnmarshalText(bytes.TrimSpace(text)); err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	return PublicKey{k}, nil
}

// Public returns the matching public key.
func (k PrivateKey) Public() PublicKey { return PublicKey{k.k.Public().(minisign.PublicKey)} }

// ID returns the key ID (not secret).
func (k PrivateKey) ID() string { return keyID(k.k.ID()) }

// String redacts the key.
func (k PrivateKey) String() string { return "minisign private key " + k.ID() + " (redacted)" }

// GoString redacts the key.
func (k PrivateKey) GoString() string { return k.String() }

func keyID(id uint64) string { return strings.ToUpper(strconv.FormatUint(id, 16)) }

// Sign returns a detached minisign signature of message, using the prehashed
// (BLAKE2b) mode minisign uses by default. trustedComment is signed too; it
// must be one line of printable text.
func Sign(k PrivateKey, message []byte, trustedComment string) ([]byte, error) {
	if strings.ContainsAny(trustedComment, "\r\n\x00") {
		return nil, errors.New("sign: trusted comment must be a single line")
	}
	r := minisign.NewReader(bytes.NewReader(message))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	untrusted := "signature from phoenix, key " + k.ID()
	return append(r.SignWithComments(k.k, trustedComment, untrusted), '\n'), nil
}

// Signature is a parsed signature's public part.
type Signature struct {
	KeyID          string // uppercase hex, as minisign prints it
	TrustedComment string // authenticated by Verify
	Prehashed      bool   // minisign's default "ED" mode
}

// ParseSignature reads a signature file without verifying it.
func ParseSignature(sig []byte) (Signature, error) {
	if len(sig) > MaxSignatureSize {
		return Signature{}, fmt.Errorf("parse signature: %d bytes, at most %d allowed", len(sig), MaxSignatureSize)
	}
	var s minisign.Signature
	if err := s.UnmarshalText(bytes.TrimRight(sig, "\r\n")); err != nil {
		return Signature{}, fmt.Errorf("parse signature: %w", err)
	}
	return Signature{KeyID: keyID(s.KeyID), TrustedComment: s.TrustedComment, Prehashed: s.Algorithm == minisign.HashEdDSA}, nil
}

// Verify checks sig over message with p and returns the signature's
// (authenticated) trusted comment. Both minisign modes are accepted.
func Verify(p PublicKey, message, sig []byte) (Signature, error) {
	s, err := ParseSignature(sig)
	if err != nil {
		return Signature{}, err
	}
	if s.KeyID != p.ID() {
		return Signature{}, fmt.Errorf("%w: signed by key %s, verifying with key %s", ErrBadSignature, s.KeyID, p.ID())
	}
	if !minisign.Verify(p.k, message, bytes.TrimRight(sig, "\r\n")) {
		return Signature{}, fmt.Errorf("%w with key %s: the content or the trusted comment was changed", ErrBadSignature, p.ID())
	}
	return s, nil
}
