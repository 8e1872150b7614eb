package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is where the server writes the bootstrap admin token (0600).
const TokenFile = "admin.token"

// adminToken returns the admin token of the data dir, creating it on first
// start. The log says where it is, never what it is.
func adminToken(dataDir string, log *slog.Logger) (string, error) {
	path := filepath.Join(dataDir, TokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if tok := strings.TrimSpace(string(b)); len(tok) >= 32 {
			return tok, nil
		}
		return "", fmt.Errorf("admin token file %s is too short; delete it to make a new one", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("admin token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := "phx_" + hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	log.Info("created the admin token", "file", path)
	return tok, nil
}

// ServerInfo is what a running server publishes in its data dir, so a CLI
// pointed at the same --data finds it instead of fighting over the lock.
type ServerInfo struct {
	API string `json:"api"`
	PID int    `json:"pid"`
}

const serverInfoFile = "server.json"

func writeServerInfo(dataDir, api string) error {
	b, _ := json.Marshal(ServerInfo{API: api, PID: os.Getpid()})
	tmp := filepath.Join(dataDir, serverInfoFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, serverInfoFile))
}

// ReadServerInfo returns the info of the server that holds dataDir.
func ReadServerInfo(dataDir string) (ServerInfo, error) {
	var si ServerInfo
	b, err := os.ReadFile(filepath.Join(dataDir, serverInfoFile))
	if err != nil {
		return si, err
	}
	return si, json.Unmarshal(b, &si)
}

// ReadToken returns the admin token stored in dataDir.
func ReadToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, TokenFile))
	return strings.TrimSpace(string(b)), err
}
