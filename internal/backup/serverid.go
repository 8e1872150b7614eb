package backup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ServerIDFile, at the top of a data dir, holds the server's identity in
// backups: a random id made once, recorded in every snapshot the server
// takes. It is left out of backups (excludedTop), so a data dir restored
// from a snapshot (a restore drill, a replacement machine) makes its own
// and never ages out, or restores as "latest", the original's snapshots.
const ServerIDFile = "server.id"

// serverIDLen is the length of an id in hex digits (48 random bits: enough
// to tell apart the few servers sharing a repository).
const serverIDLen = 12

// ReadServerID returns the identity recorded in dataDir, or "" when it
// has none yet. A file that is not an id is an error naming it.
func ReadServerID(dataDir string) (string, error) {
	p := filepath.Join(dataDir, ServerIDFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if len(id) != serverIDLen || strings.Trim(id, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s: want %d lowercase hex digits, the server's identity in backups; delete the file to make a new one", p, serverIDLen)
	}
	return id, nil
}

// ServerID returns the identity recorded in dataDir, making it first if
// there is none. Two processes making it at once agree on one: the id is
// written to a temporary file and linked into place, which fails when the
// other's is already there.
func ServerID(dataDir string) (string, error) {
	if id, err := ReadServerID(dataDir); id != "" || err != nil {
		return id, err
	}
	b := make([]byte, serverIDLen/2)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dataDir, tmpPrefix+"server-id-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(b) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), filepath.Join(dataDir, ServerIDFile))
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("make the server's identity: %w", err)
	}
	return ReadServerID(dataDir)
}
