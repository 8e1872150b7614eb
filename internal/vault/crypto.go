package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id costs that turn a master key into the
// key-encryption key. They are chosen at init and stored with the vault,
// so later unseals derive the same key.
type KDFParams struct {
	Time      uint32 // passes
	MemoryKiB uint32 // memory in KiB
	Threads   uint8
}

// DefaultKDF costs about 64 MiB and a fraction of a second per unseal,
// which makes guessing a passphrase from a stolen state.db expensive.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

func (p KDFParams) valid() error {
	if p.Time < 1 || p.MemoryKiB < 8*uint32(max(p.Threads, 1)) || p.Threads < 1 || p.MemoryKiB > 4<<20 || p.Time > 64 {
		return fmt.Errorf("argon2id parameters time=%d memory=%dKiB threads=%d are out of range", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

const (
	keySize   = 32 // AES-256
	saltSize  = 16
	checkText = "phoenix vault check v1"
)

// deriveKEK derives the key-encryption key: argon2id (memory-hard, so a
// passphrase is as good as its entropy allows) then HKDF-SHA256 with a
// purpose label, so the same root could later give other sub-keys.
func deriveKEK(master, salt []byte, p KDFParams) ([]byte, error) {
	root := argon2.IDKey(master, salt, p.Time, p.MemoryKiB, p.Threads, keySize)
	defer wipe(root)
	return hkdf.Key(sha256.New, root, salt, "phoenix vault kek v1", keySize)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext under key with a fresh random nonce.
func seal(key, plaintext, aad []byte) (nonce, ct []byte, err error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, g.Seal(nil, nonce, plaintext, aad), nil
}

// errAuth is GCM's authentication failure: wrong key or altered bytes.
var errAuth = errors.New("authentication failed")

func open(key, nonce, ct, aad []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != g.NonceSize() {
		return nil, errAuth
	}
	pt, err := g.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, errAuth
	}
	return pt, nil
}

// sealedVersion is one version's stored crypto material.
type sealedVersion struct {
	keyNonce, wrappedKey []byte // the data key, wrapped by the KEK
	nonce, ciphertext    []byte // the value, under the data key
}

// versionAAD binds a ciphertext to its vault, secret and version, so rows
// swapped between secrets or versions fail authentication.
func versionAAD(vaultID, purpose, name string, version int) []byte {
	return []byte(vaultID + "\x00" + purpose + "\x00" + name + "\x00" + strconv.Itoa(version))
}

// encryptVersion encrypts plaintext with a fresh data key and wraps the
// data key with kek.
func encryptVersion(kek []byte, vaultID, name string, version int, plaintext []byte) (sealedVersion, error) {
	dek := make([]byte, keySize)
	if _, err := rand.Read(dek); err != nil {
		return sealedVersion{}, err
	}
	defer wipe(dek)
	var s sealedVersion
	var err error
	if s.nonce, s.ciphertext, err = seal(dek, plaintext, versionAAD(vaultID, "value", name, version)); err != nil {
		return sealedVersion{}, err
	}
	if s.keyNonce, s.wrappedKey, err = seal(kek, dek, versionAAD(vaultID, "key", name, version)); err != nil {
		return sealedVersion{}, err
	}
	return s, nil
}

// decryptVersion unwraps the data key and decrypts the value; any altered
// byte (or a row moved from elsewhere) fails with errAuth.
func decryptVersion(kek []byte, vaultID, name string, version int, s sealedVersion) ([]byte, error) {
	dek, err := open(kek, s.keyNonce, s.wrappedKey, versionAAD(vaultID, "key", name, version))
	if err != nil {
		return nil, err
	}
	defer wipe(dek)
	if len(dek) != keySize {
		return nil, errAuth
	}
	return open(dek, s.nonce, s.ciphertext, versionAAD(vaultID, "value", name, version))
}
