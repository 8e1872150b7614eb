package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TokenFile is where the server writes the bootstrap admin token (0600).
const TokenFile = "admin.token"

// adminToken makes sure <data>/admin.token (0600) holds a valid token of
// the admin user: the first start creates the user and the token, a token
// file from before users existed is adopted, and a missing file is made
// anew (deleting it is how a lost admin token is replaced). The log says
// where the token is, never what it is.
func adminToken(ctx context.Context, dataDir string, svc *auth.Service, log *slog.Logger) error {
	path := filepath.Join(dataDir, TokenFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("admin token: %w", err)
	}
	existing := strings.TrimSpace(string(b))
	if err == nil && auth.TokenID(existing) == "" {
		return fmt.Errorf("admin token file %s does not hold a phoenix token; delete it to make a new one", path)
	}
	tok, minted, err := svc.Bootstrap(ctx, existing)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if !minted {
		return os.Chmod(path, 0o600)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	log.Info("created the admin token", "file", path, "user", auth.BootstrapUser)
	return nil
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
