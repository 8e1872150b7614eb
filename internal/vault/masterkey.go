package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MasterKeyEnv is the environment variable that may hold the master key.
const MasterKeyEnv = "PHOENIX_MASTER_KEY"

// MinMasterKeyLen is the shortest master key or passphrase Init accepts.
const MinMasterKeyLen = 12

const maxMasterKeyFile = 4096

// MasterKeyFromEnv returns the master key in the environment variable
// name (MasterKeyEnv when empty) and whether it was set and non-empty.
func MasterKeyFromEnv(name string) (Secret, bool) {
	if name == "" {
		name = MasterKeyEnv
	}
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return Secret{}, false
	}
	return SecretString(v), true
}

// LoadMasterKeyFile reads a master key file (or any key file of the same
// form, such as a backup repository's): its contents minus trailing white
// space. Like an SSH key, the file must not be readable by group or others.
func LoadMasterKeyFile(path string) (Secret, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Secret{}, fmt.Errorf("key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Secret{}, fmt.Errorf("key file %s: mode %04o lets others read it; run chmod 600 %s",
			path, fi.Mode().Perm(), filepath.Clean(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMasterKeyFile+1))
	if err != nil {
		return Secret{}, fmt.Errorf("key file %s: %w", path, err)
	}
	defer wipe(b)
	if len(b) > maxMasterKeyFile {
		return Secret{}, fmt.Errorf("key file %s: larger than %d bytes; is it the right file?", path, maxMasterKeyFile)
	}
	k := bytes.TrimRight(b, " \t\r\n")
	if len(k) == 0 {
		return Secret{}, fmt.Errorf("key file %s is empty", path)
	}
	return NewSecret(k), nil
}

// GenerateMasterKey returns a new random master key: 32 bytes from
// crypto/rand, base64url-encoded (43 characters) so it fits in an
// environment variable.
func GenerateMasterKey() (Secret, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, fmt.Errorf("generate master key: %w", err)
	}
	defer wipe(b)
	return SecretString(base64.RawURLEncoding.EncodeToString(b)), nil
}

// WriteMasterKeyFile writes k to a new file at path with mode 0600; it
// refuses to replace an existing file (that would lose the old key).
func WriteMasterKeyFile(path string, k Secret) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w (it is never overwritten)", err)
	}
	_, werr := f.Write(append(k.Bytes(), '\n'))
	serr := f.Sync()
	cerr := f.Close()
	for _, e := range []error{werr, serr, cerr} {
		if e != nil {
			os.Remove(path)
			return fmt.Errorf("key file %s: %w", path, e)
		}
	}
	return nil
}
