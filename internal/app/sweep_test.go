package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestStartSweepsCrashLeftovers: temporary blob files a crash left (older
// than the grace period) are gone once the server has started, and logged;
// a younger one (a deploy staging from another process) stays.
func TestStartSweepsCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shard := filepath.Join(dir, "blobs", "sha256", "ab")
	if err := os.MkdirAll(shard, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(shard, ".tmp-ab12-crashed")
	young := filepath.Join(shard, ".tmp-ab34-writing")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("half a blob"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	var logs testkit.LogBuffer
	startOpts(t, Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("the crash's leftover is still there after the start: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Fatalf("a young temporary file (a writer at work) was removed: %v", err)
	}
	if !strings.Contains(logs.String(), "removed temporary files a crash left") {
		t.Fatalf("the sweep is not logged:\n%s", logs.String())
	}
}
