package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2 are the cost parameters of password hashes. Stored hashes keep
// their own parameters, so raising these affects only new hashes.
type Argon2 struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 follows the OWASP minimum for argon2id (19 MiB, 2 passes).
var DefaultArgon2 = Argon2{Time: 2, Memory: 19 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen is the shortest password accepted.
	MinPasswordLen = 12
	maxPasswordLen = 1024
)

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of pw in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(pw string, a Argon2) (string, error) {
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, a.Time, a.Memory, a.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return fmt.Errorf("password too short: use at least %d characters", MinPasswordLen)
	}
	if len(pw) > maxPasswordLen {
		return fmt.Errorf("password too long: at most %d bytes", maxPasswordLen)
	}
	return nil
}

// VerifyPassword reports whether pw matches the PHC-format hash. The
// comparison is constant-time; a malformed hash never matches.
func VerifyPassword(pw, hash string) bool {
	a, salt, want, err := parseHash(hash)
	if err != nil || len(pw) > maxPasswordLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, a.Time, a.Memory, a.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// parseHash reads a PHC argon2id string, bounding its parameters so a
// planted hash cannot make a login allocate gigabytes.
func parseHash(s string) (Argon2, []byte, []byte, error) {
	var a Argon2
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return a, nil, nil, errors.New("not an argon2id hash")
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.Memory, &a.Time, &threads); err != nil {
		return a, nil, nil, fmt.Errorf("argon2id parameters: %w", err)
	}
	if fmt.Sprintf("m=%d,t=%d,p=%d", a.Memory, a.Time, threads) != parts[3] {
		return a, nil, nil, errors.New("argon2id parameters: not canonical")
	}
	if a.Time < 1 || a.Time > 16 || threads < 1 || threads > 16 || a.Memory < 8*threads || a.Memory > 1<<20 {
		return a, nil, nil, errors.New("argon2id parameters out of range")
	}
	a.Threads = uint8(threads)
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return a, nil, nil, errors.New("argon2id salt malformed")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return a, nil, nil, errors.New("argon2id key malformed")
	}
	return a, salt, key, nil
}
