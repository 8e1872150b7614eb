package certs

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Keys gives the 32-byte data keys that Storage seals values with. New
// values are sealed under the current key; each sealed value records its
// key's version, so values sealed before a new key was made stay readable.
// Implementations must be safe for concurrent use; they are asked on every
// Store and Load, so they should cache. An error (a sealed vault) fails the
// storage operation: nothing is ever stored unsealed.
type Keys interface {
	// Current returns the key new values are sealed under and its version.
	Current(ctx context.Context) (version uint32, key []byte, err error)
	// Key returns the key of an earlier version.
	Key(ctx context.Context, version uint32) ([]byte, error)
}

const (
	sealFormat = 1
	headerSize = 1 + 4 // format byte, key version
)

// aad binds a sealed value to its storage key, so rows cannot be swapped.
func aad(key string) []byte { return append([]byte("phoenix certs v1\x00"), key...) }

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("certs: data key has %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal encrypts value for storage under key name.
func seal(ctx context.Context, keys Keys, name string, value []byte) ([]byte, error) {
	version, key, err := keys.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("certs: data key: %w", err)
	}
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize+g.NonceSize(), headerSize+g.NonceSize()+len(value)+g.Overhead())
	out[0] = sealFormat
	binary.BigEndian.PutUint32(out[1:], version)
	nonce := out[headerSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(out, nonce, value, aad(name)), nil
}

// errCorrupt is a sealed value that does not open.
var errCorrupt = errors.New("certs: stored value does not decrypt (altered, or sealed under another key)")

// open decrypts a value sealed for key name.
func open(ctx context.Context, keys Keys, name string, sealed []byte) ([]byte, error) {
	if len(sealed) < headerSize || sealed[0] != sealFormat {
		return nil, errCorrupt
	}
	key, err := keys.Key(ctx, binary.BigEndian.Uint32(sealed[1:]))
	if err != nil {
		return nil, fmt.Errorf("certs: data key: %w", err)
	}
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	rest := sealed[headerSize:]
	if len(rest) < g.NonceSize() {
		return nil, errCorrupt
	}
	out, err := g.Open(nil, rest[:g.NonceSize()], rest[g.NonceSize():], aad(name))
	if err != nil {
		return nil, errCorrupt
	}
	return out, nil
}
