package backup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestAuditAnchorLeftOut: the audit log's anchor (keys/audit.checkpoint),
// which may be newer than the database copied before it, is neither backed
// up nor restored from a snapshot taken before it was left out; the other
// keys are.
func TestAuditAnchorLeftOut(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	writeFile(t, data, "keys/audit.checkpoint", []byte("phoenix audit log\n9\nabc\n"), 0o644)
	writeFile(t, data, "keys/audit.pub", []byte("phoenix-audit+1+x\n"), 0o644)
	restored := func(s *Snapshot) string {
		dst := filepath.Join(t.TempDir(), "restored")
		if _, err := r.Restore(ctx, s.ID, dst, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dst, "keys", "audit.pub")); err != nil {
			t.Fatalf("keys/audit.pub not restored: %v", err)
		}
		return filepath.Join(dst, "keys", "audit.checkpoint")
	}
	s, err := r.Create(ctx, CreateOptions{DataDir: data, Host: "h", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(restored(s)); err == nil {
		t.Fatal("keys/audit.checkpoint was backed up")
	}
	delete(excludedPaths, "keys/audit.checkpoint") // a snapshot from before
	old, err := r.Create(ctx, CreateOptions{DataDir: data, Host: "h", Version: "v0"})
	excludedPaths["keys/audit.checkpoint"] = true
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(restored(old)); err == nil {
		t.Fatal("keys/audit.checkpoint of an older snapshot was restored")
	}
}
