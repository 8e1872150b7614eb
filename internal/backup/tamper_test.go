package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTamper(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	s := create(t, r, data, time.Now())
	e := findEntry(s, "keys/signing.key")
	obj := filepath.Join(repo, "objects", "sha256", e.Object[7:9], e.Object[7:])
	flipByte(t, obj, headerSize+3)

	rep, err := r.Verify(ctx, s.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "keys/signing.key") || rep.Files != len(s.Files) {
		t.Errorf("report = %+v, want one problem naming keys/signing.key", rep)
	}

	parent := t.TempDir()
	dst := filepath.Join(parent, "restored")
	if _, err := r.Restore(ctx, s.ID, dst, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Restore of a damaged snapshot: %v, want ErrCorrupt", err)
	}
	if names, _ := os.ReadDir(parent); len(names) != 0 {
		t.Errorf("Restore left %v behind", names)
	}
}

func TestVerifyMissingObject(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	s := create(t, r, data, time.Now())
	for _, rel := range []string{"roles.yaml", "admin.token"} {
		e := findEntry(s, rel)
		os.Remove(filepath.Join(repo, "objects", "sha256", e.Object[7:9], e.Object[7:]))
	}
	rep, err := r.Verify(context.Background(), "latest", nil)
	if err != nil || len(rep.Problems) != 2 || !strings.Contains(strings.Join(rep.Problems, "\n"), "missing") {
		t.Fatalf("Verify = %+v, %v; want two missing objects", rep, err)
	}
}

// A snapshot object moved under another snapshot's name is detected.
func TestSwappedSnapshot(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	a := create(t, r, data, time.Now())
	writeFile(t, data, "roles.yaml", []byte("changed"), 0o644)
	b := create(t, r, data, time.Now())
	pa := filepath.Join(repo, "snapshots", "sha256", a.ID[:2], a.ID)
	pb := filepath.Join(repo, "snapshots", "sha256", b.ID[:2], b.ID)
	os.Remove(pa)
	raw, _ := os.ReadFile(pb)
	os.WriteFile(pa, raw, 0o444)
	if _, err := r.Load(context.Background(), a.ID); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of a swapped snapshot: %v, want ErrCorrupt", err)
	}
}

// flipByte inverts one byte of a read-only store file.
func flipByte(t *testing.T, p string, off int) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0xff
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
}
