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
	"strconv"
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
// A clean stop removes it; a start removes one a crash left behind.
type ServerInfo struct {
	API string `json:"api"`
	PID int    `json:"pid"`
}

const serverInfoFile = "server.json"

// publishServerInfo writes server.json, and removes it again at Stop if it
// still names this server.
func (a *App) publishServerInfo() error {
	si := ServerInfo{API: a.APIURL(), PID: os.Getpid()}
	if err := writeServerInfo(a.opts.DataDir, si); err != nil {
		return fmt.Errorf("publish server.json: %w", err)
	}
	a.onStop(func(context.Context) error { return removeServerInfo(a.opts.DataDir, si) })
	return nil
}

func writeServerInfo(dataDir string, si ServerInfo) error {
	b, _ := json.Marshal(si)
	tmp := filepath.Join(dataDir, serverInfoFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, serverInfoFile))
}

// removeServerInfo removes server.json if it names si (nil when it is
// gone or names another server).
func removeServerInfo(dataDir string, si ServerInfo) error {
	if cur, err := ReadServerInfo(dataDir); err != nil || cur != si {
		return nil
	}
	return removeServerInfoFile(dataDir)
}

// removeServerInfoFile removes server.json whatever it says: at a start,
// once the lock is held, one left by a crash names no server.
func removeServerInfoFile(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, serverInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadServerInfo returns what dataDir's server.json says, stale or not.
func ReadServerInfo(dataDir string) (ServerInfo, error) {
	var si ServerInfo
	b, err := os.ReadFile(filepath.Join(dataDir, serverInfoFile))
	if err != nil {
		return si, err
	}
	return si, json.Unmarshal(b, &si)
}

// ErrNoServerInfo is RunningServer's error when dataDir's server.json is
// missing or names another process than the one holding the data dir's
// lock (left by a crash, or the holder is still starting).
var ErrNoServerInfo = errors.New("no running server published its API in the data dir")

// RunningServer returns the server.json of the server holding dataDir's
// lock: one whose pid is not the lock holder's is stale.
func RunningServer(dataDir string) (ServerInfo, error) {
	si, err := ReadServerInfo(dataDir)
	if err != nil {
		return si, fmt.Errorf("%w: %v", ErrNoServerInfo, err)
	}
	if holder := lockHolder(dataDir); holder != strconv.Itoa(si.PID) {
		return si, fmt.Errorf("%w: server.json names pid %d, the lock is held by %q", ErrNoServerInfo, si.PID, holder)
	}
	return si, nil
}

// ReadToken returns the admin token stored in dataDir.
func ReadToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, TokenFile))
	return strings.TrimSpace(string(b)), err
}
