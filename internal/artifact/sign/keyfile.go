package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"aead.dev/minisign"
)

// maxKeyFile bounds the key files read.
const maxKeyFile = 4096

// SavePrivateKey writes k to path with mode 0600, encrypted with password
// unless password is empty. It refuses to overwrite an existing file.
// Encrypting uses minisign's scrypt parameters (about 1 GiB of memory, a
// second or two of CPU).
func SavePrivateKey(path string, k PrivateKey, password string) error {
	var text []byte
	var err error
	if password == "" {
		text, err = k.k.MarshalText()
	} else {
		text, err = minisign.EncryptKey(password, k.k)
	}
	if err != nil {
		return fmt.Errorf("save private key %s: %w", path, err)
	}
	return writeNew(path, append(text, '\n'), 0o600)
}

// SavePublicKey writes p to path (mode 0644), refusing to overwrite.
func SavePublicKey(path string, p PublicKey) error {
	text, _ := p.MarshalText()
	return writeNew(path, text, 0o644)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return nil
}

// ErrEncrypted is returned (wrapped) for an encrypted private key given
// no password.
var ErrEncrypted = errors.New("private key is encrypted: a password is needed")

// ErrWrongPassword is returned (wrapped) when an encrypted private key does
// not decrypt with the password given.
var ErrWrongPassword = errors.New("private key: wrong password or damaged key file")

// LoadPrivateKey reads a minisign private key file, decrypting it with
// password if it is encrypted. The file must not be readable by group or
// others. Errors name the file, and say so when it holds a public key.
func LoadPrivateKey(path, password string) (PrivateKey, error) {
	data, err := readSmall(path)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("load private key: %w", err)
	}
	if _, err := ParsePublicKey(data); err == nil {
		return PrivateKey{}, fmt.Errorf("load private key %s: the file holds a minisign public key, not the secret key that signs", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return PrivateKey{}, fmt.Errorf("load private key %s: file mode %04o lets others read it; run chmod 600 %s",
			path, fi.Mode().Perm(), filepath.Clean(path))
	}
	k, err := ParsePrivateKey(data, password)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("load private key %s: %w", path, err)
	}
	return k, nil
}

// ParsePrivateKey decodes a private key file's contents. Errors never
// include key material.
func ParsePrivateKey(data []byte, password string) (PrivateKey, error) {
	data = bytes.TrimSpace(data)
	if minisign.IsEncrypted(data) {
		if password == "" {
			return PrivateKey{}, ErrEncrypted
		}
		k, err := minisign.DecryptKey(password, data)
		if err != nil {
			return PrivateKey{}, ErrWrongPassword
		}
		return PrivateKey{k}, nil
	}
	var k minisign.PrivateKey
	if err := k.UnmarshalText(data); err != nil {
		return PrivateKey{}, errors.New("private key: not a minisign secret key file")
	}
	return PrivateKey{k}, nil
}

// LoadPublicKey reads a minisign public key file. Errors name the file, and
// say so when it holds a secret key (without any of its material).
func LoadPublicKey(path string) (PublicKey, error) {
	data, err := readSmall(path)
	if err != nil {
		return PublicKey{}, fmt.Errorf("load public key: %w", err)
	}
	p, err := ParsePublicKey(data)
	if err != nil {
		if _, perr := ParsePrivateKey(data, ""); perr == nil || errors.Is(perr, ErrEncrypted) {
			return PublicKey{}, fmt.Errorf("load public key %s: the file holds a minisign secret key; give its public key (the .pub file)", path)
		}
		return PublicKey{}, fmt.Errorf("load public key %s: %w", path, err)
	}
	return p, nil
}

func readSmall(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxKeyFile {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("not a key file (not a regular file or too large)")}
	}
	return os.ReadFile(path)
}
