package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// auditVerify runs phoenix audit verify on data; it returns the exit
// code and stdout+stderr.
func auditVerify(t *testing.T, data string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Main([]string{"--data", data, "audit", "verify"}, nil, &out, &out)
	return code, out.String()
}

// deadAPI is the URL of a loopback port nothing listens on any more.
func deadAPI(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return "http://" + l.Addr().String()
}

// writeStaleServerInfo leaves a server.json naming a server gone, as a
// server killed (or stopped by an older phoenix) does.
func writeStaleServerInfo(t *testing.T, data string) {
	t.Helper()
	b, _ := json.Marshal(app.ServerInfo{API: deadAPI(t), PID: 1})
	if err := os.WriteFile(filepath.Join(data, "server.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func startServer(t *testing.T, data string) *app.App {
	t.Helper()
	a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// TestCommandOnADatabaseInUseSaysSo: a command on a data dir of its own
// whose database replicas hold (a shared claim, as --replica takes) is told
// the database is in use and to use --server, also with a stale
// server.json in the dir; never that the dir is locked or that a server
// gone cannot be reached.
func TestCommandOnADatabaseInUseSaysSo(t *testing.T) {
	dsn := testkit.Postgres(t).NewDatabase(t)
	db, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	release, err := db.ClaimShared(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	t.Setenv(DatabaseURLEnv, dsn)
	stale := t.TempDir()
	writeStaleServerInfo(t, stale)
	for _, data := range []string{t.TempDir(), stale} {
		code, out := auditVerify(t, data)
		if code != 1 || !strings.Contains(out, "is in use by another Phoenix server") || !strings.Contains(out, "hint: run the command against the server using it: --server URL") ||
			strings.Contains(out, "cannot reach") || strings.Contains(out, "names no running server") {
			t.Fatalf("exit %d: %s", code, out)
		}
	}
}

// TestCommandOnADataDirInUseUsesItsServer: a command on the data dir of
// a running server talks to it; when the dir's server.json names another
// process than the lock's holder (a crash's), it says the dir is in use
// and names no running server rather than dial a server gone.
func TestCommandOnADataDirInUseUsesItsServer(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	startServer(t, data)
	if code, out := auditVerify(t, data); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("exit %d: %s", code, out)
	}
	writeStaleServerInfo(t, data)
	code, out := auditVerify(t, data)
	if code != 1 || !strings.Contains(out, "names no running server") || !strings.Contains(out, "hint: wait for its start") ||
		strings.Contains(out, "cannot reach") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// TestStaleServerInfoIsIgnored: with the data dir's lock free, a
// server.json naming a server gone is no server: the command runs
// in-process, and leaves no server.json behind.
func TestStaleServerInfoIsIgnored(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	a := startServer(t, data)
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeStaleServerInfo(t, data)
	if code, out := auditVerify(t, data); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(data, "server.json")); !os.IsNotExist(err) {
		t.Fatalf("server.json after the command: %v", err)
	}
}
