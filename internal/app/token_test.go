package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

func startLogged(t *testing.T, dir string, logs *bytes.Buffer) *App {
	t.Helper()
	a, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Argon2: auth.Argon2{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func me(t *testing.T, a *App, tok string) int {
	req, _ := http.NewRequest("GET", a.APIURL()+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminTokenLifecycle: the first start creates the admin user's token
// in a 0600 file and logs where (not what); restarts keep it; deleting the
// file makes a new one; the audit log verifies across restarts.
func TestAdminTokenLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	a := startLogged(t, dir, &logs)
	tok, err := ReadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, TokenFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token mode %v", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), filepath.Join(dir, TokenFile)) || strings.Contains(logs.String(), tok) {
		t.Fatalf("log must name the file and not the token:\n%s", logs.String())
	}
	if code := me(t, a, tok); code != 200 {
		t.Fatalf("admin token: %d", code)
	}
	a.Stop(context.Background())

	logs.Reset()
	a = startLogged(t, dir, &logs)
	if again, _ := ReadToken(dir); again != tok || me(t, a, tok) != 200 || strings.Contains(logs.String(), "created the admin token") {
		t.Fatal("a restart changed the admin token")
	}
	a.Stop(context.Background())

	os.Remove(filepath.Join(dir, TokenFile))
	a = startLogged(t, dir, &logs)
	defer a.Stop(context.Background())
	fresh, _ := ReadToken(dir)
	if fresh == tok || me(t, a, fresh) != 200 {
		t.Fatal("deleting admin.token did not make a new working token")
	}
	rep, err := a.Audit.Verify(context.Background())
	if err != nil || !rep.OK || rep.Signed == 0 {
		t.Fatalf("audit after restarts: %+v %v", rep, err)
	}
}

// TestServerInfoLifecycle: a start replaces the server.json a crash left,
// RunningServer finds the server it names, and a clean stop removes it;
// one naming another process than the lock's holder is stale, and a stop
// leaves a server.json that is no longer its own.
func TestServerInfoLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeServerInfo(dir, ServerInfo{API: "http://127.0.0.1:1", PID: 1}); err != nil {
		t.Fatal(err)
	}
	a := start(t, dir)
	si, err := RunningServer(dir)
	if err != nil || si != (ServerInfo{API: a.APIURL(), PID: os.Getpid()}) {
		t.Fatalf("running server = %+v, %v", si, err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, serverInfoFile)); !os.IsNotExist(err) {
		t.Fatalf("server.json after a clean stop: %v", err)
	}
	b := start(t, dir)
	other := ServerInfo{API: b.APIURL(), PID: os.Getpid() + 1}
	if err := writeServerInfo(dir, other); err != nil {
		t.Fatal(err)
	}
	if _, err := RunningServer(dir); !errors.Is(err, ErrNoServerInfo) {
		t.Fatalf("server.json of another pid: %v", err)
	}
	b.Stop(context.Background())
	if si, err := ReadServerInfo(dir); err != nil || si != other {
		t.Fatalf("another's server.json after stop = %+v, %v", si, err)
	}
}
