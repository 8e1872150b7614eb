//go:build unix && !aix

package backup

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadOnlyRepositoryWithoutLockFile: a repository on a read-only file
// system that holds no lock file (the mirror's copy has none: the bucket
// mounted read-only, or a copy on a disk mounted read-only for a restore)
// could not be listed, verified or restored from: every operation failed
// to create the lock file ("open …/lock: read-only file system"). Those
// that only read go on without it; prune still needs it.
func TestReadOnlyRepositoryWithoutLockFile(t *testing.T) {
	r, repo := newRepo(t)
	data, want := dataDir(t)
	s := create(t, r, data, time.Now())
	if err := os.Remove(filepath.Join(repo, lockFile)); err != nil {
		t.Fatal(err)
	}
	real := openLock
	t.Cleanup(func() { openLock = real })
	openLock = func(p string) (*os.File, error) { // a read-only mount: what exists opens, nothing is created
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &fs.PathError{Op: "open", Path: p, Err: unix.EROFS}
		}
		return f, err
	}

	ctx := context.Background()
	if list, err := r.List(ctx); err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if rep, err := r.Verify(ctx, "latest", nil); err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
	to := filepath.Join(t.TempDir(), "restored")
	if _, err := r.Restore(ctx, s.ID, to, nil); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	sameTree(t, readTree(t, to), want)
	if _, err := r.Prune(ctx); !errors.Is(err, unix.EROFS) {
		t.Errorf("Prune without the lock = %v, want the read-only file system's error", err)
	}
}
