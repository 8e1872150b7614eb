//go:build unix

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServerSIGHUP: systemctl reload sends SIGHUP. A server without an
// access log file keeps running; one with a file reopens it, so after
// logrotate moved the file away the new lines go to a new file at the
// same path.
func TestServerSIGHUP(t *testing.T) {
	work := t.TempDir()
	plain := startServer(t, filepath.Join(work, "plain"))
	if err := plain.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(work, "access.log")
	logged := startServerWith(t, filepath.Join(work, "logged"), nil, "--edge-access-log", logPath)

	// The plain server answers after its SIGHUP.
	healthy := func(s *server) bool {
		resp, err := http.Get("http://" + s.api + "/api/v1/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	if !healthy(plain) {
		t.Fatalf("the server without an access log died of SIGHUP\n%s", plain.logs.String())
	}

	logged.get(t, "nosuch.example", "/first")
	waitFor(t, "the first line", func() bool { b, _ := os.ReadFile(logPath); return strings.Contains(string(b), "/first") })
	if err := os.Rename(logPath, logPath+".1"); err != nil { // logrotate
		t.Fatal(err)
	}
	if err := logged.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reopened file", func() bool { _, err := os.Stat(logPath); return err == nil })
	logged.get(t, "nosuch.example", "/second")
	waitFor(t, "the second line in the new file", func() bool { b, _ := os.ReadFile(logPath); return strings.Contains(string(b), "/second") })
	if !healthy(logged) {
		t.Fatal("the server with an access log stopped answering after SIGHUP")
	}
	if b, _ := os.ReadFile(logPath + ".1"); strings.Contains(string(b), "/second") {
		t.Error("a line after the reopen went to the moved file")
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not timing it
	}
}
