package backup

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id costs that turn a passphrase into the
// key-encryption key. They are chosen at Init and stored in the repository,
// so later opens derive the same key.
type KDFParams struct {
	Time      uint32 `json:"time"`       // passes
	MemoryKiB uint32 `json:"memory_kib"` // memory in KiB
	Threads   uint8  `json:"threads"`
}

// DefaultKDF costs about 64 MiB and a fraction of a second per open, which
// makes guessing the passphrase of a stolen repository expensive.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// valid bounds the costs, also those read from an untrusted repository, so
// a doctored file cannot make Open allocate without limit.
func (p KDFParams) valid() error {
	if p.Time < 1 || p.Time > 64 || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 4<<20 {
		return fmt.Errorf("argon2id parameters time=%d memory=%dKiB threads=%d are out of range", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

const (
	keySize  = 32 // AES-256
	saltSize = 16
	kekLabel = "phoenix backup kek v1"
	objLabel = "phoenix backup object v1"
)

// deriveKEK derives the key-encryption key: argon2id (memory-hard, so a
// passphrase is as good as its entropy allows) then HKDF-SHA256 with a
// purpose label.
func deriveKEK(pass, salt []byte, p KDFParams) ([]byte, error) {
	root := argon2.IDKey(pass, salt, p.Time, p.MemoryKiB, p.Threads, keySize)
	defer wipe(root)
	return hkdf.Key(sha256.New, root, salt, kekLabel, keySize)
}

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// wrapKey seals the data key under kek, bound to the repository id.
func wrapKey(kek, dataKey []byte, repoID string) (nonce, sealed []byte, err error) {
	g, err := newGCM(kek)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, g.Seal(nil, nonce, dataKey, []byte(repoID)), nil
}

// unwrapKey opens the sealed data key; any failure is ErrWrongKey, since a
// wrong passphrase and an altered key look the same to GCM.
func unwrapKey(kek, nonce, sealed []byte, repoID string) ([]byte, error) {
	g, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(nonce) != g.NonceSize() {
		return nil, ErrWrongKey
	}
	k, err := g.Open(nil, nonce, sealed, []byte(repoID))
	if err != nil || len(k) != keySize {
		wipe(k)
		return nil, ErrWrongKey
	}
	return k, nil
}

// randomBytes returns n bytes from the system's secure generator.
func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// wipe overwrites key material that is no longer needed.
func wipe(b []byte) {
	clear(b)
}
