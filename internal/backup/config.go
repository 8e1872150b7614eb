package backup

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// configFile is the repository's only plaintext file.
const configFile = "phoenix-backup.json"

const (
	formatVersion = 1
	repoIDSize    = 16
	maxConfigSize = 64 << 10
)

// config is the content of phoenix-backup.json.
type config struct {
	Format  int       `json:"format"`
	ID      string    `json:"id"`
	KDF     KDFParams `json:"kdf"`
	Salt    []byte    `json:"salt"`
	Key     sealedKey `json:"key"`
	Created time.Time `json:"created"`
}

// sealedKey is the data key sealed under the key-encryption key.
type sealedKey struct {
	Nonce  []byte `json:"nonce"`
	Sealed []byte `json:"sealed"`
}

// readConfig reads and checks dir's phoenix-backup.json. A missing file (or
// directory) is ErrNotRepo; a malformed one is ErrCorrupt.
func readConfig(dir string) (config, error) {
	var c config
	p := filepath.Join(dir, configFile)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("%s: %w", dir, ErrNotRepo)
	} else if err != nil {
		return c, fmt.Errorf("open backup repository: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return c, fmt.Errorf("read %s: %w", p, err)
	}
	if err := decodeStrict(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w (%w)", p, err, ErrCorrupt)
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("%s: %w (%w)", p, err, ErrCorrupt)
	}
	return c, nil
}

// validate checks what Open relies on.
func (c config) validate() error {
	if c.Format != formatVersion {
		return fmt.Errorf("format %d is not supported (want %d)", c.Format, formatVersion)
	}
	if id, err := hex.DecodeString(c.ID); err != nil || len(id) != repoIDSize {
		return fmt.Errorf("id %q: want %d hex digits", clip(c.ID), 2*repoIDSize)
	}
	if len(c.Salt) != saltSize {
		return fmt.Errorf("salt: want %d bytes, got %d", saltSize, len(c.Salt))
	}
	return c.KDF.valid()
}

// writeConfig writes c atomically (temporary file, fsync, rename).
func writeConfig(dir string, c config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, configFile), append(b, '\n'), 0o600)
}

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// clip shortens untrusted text before it is quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
