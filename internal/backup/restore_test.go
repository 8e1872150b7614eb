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

func TestRestoreTarget(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, want := dataDir(t)
	s := create(t, r, data, time.Now())

	t.Run("non-empty dir", func(t *testing.T) {
		dst := t.TempDir()
		writeFile(t, dst, "keep.txt", []byte("mine"), 0o600)
		if _, err := r.Restore(ctx, s.ID, dst, nil); !errors.Is(err, ErrTargetNotEmpty) {
			t.Fatalf("err = %v, want ErrTargetNotEmpty", err)
		}
		sameTree(t, readTree(t, dst), map[string]file{"keep.txt": {[]byte("mine"), 0o600}})
		if names, _ := os.ReadDir(filepath.Dir(dst)); len(names) != 1 {
			t.Errorf("Restore left %v next to the target", names)
		}
	})
	t.Run("file", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "f")
		os.WriteFile(dst, nil, 0o600)
		if _, err := r.Restore(ctx, s.ID, dst, nil); !errors.Is(err, ErrTargetNotEmpty) {
			t.Fatalf("err = %v, want ErrTargetNotEmpty", err)
		}
	})
	t.Run("link to an empty dir", func(t *testing.T) {
		// A data dir is often a link to a folder on another disk: the
		// restore fills the folder (it was refused as "not an empty
		// directory") and leaves the link as it was.
		disk := filepath.Join(t.TempDir(), "disk")
		dst := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(disk, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(disk, dst); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Restore(ctx, s.ID, dst, nil); err != nil {
			t.Fatal(err)
		}
		sameTree(t, readTree(t, disk), want)
		if fi, err := os.Lstat(dst); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link is no longer a link: %v, %v", fi, err)
		}
		if names, _ := os.ReadDir(filepath.Dir(disk)); len(names) != 1 {
			t.Errorf("Restore left %v beside the folder", names)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		dst := t.TempDir()
		var done, total int64
		if _, err := r.Restore(ctx, "latest", dst, func(d, tot int64) { done, total = d, tot }); err != nil {
			t.Fatal(err)
		}
		sameTree(t, readTree(t, dst), want)
		if done != total || total != s.Size {
			t.Errorf("progress %d/%d, want %d", done, total, s.Size)
		}
		if fi, _ := os.Stat(filepath.Join(dst, "keys")); fi.Mode().Perm() != 0o700 {
			t.Errorf("keys/ mode %o, want 0700", fi.Mode().Perm())
		}
	})
}

// TestRestoreOnly restores the files a filter keeps, and only those.
func TestRestoreOnly(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, want := dataDir(t)
	s := create(t, r, data, time.Now())
	notBlobs := func(p string) bool { return !strings.HasPrefix(p, "blobs/") }
	dst := filepath.Join(t.TempDir(), "some")
	got, err := r.RestoreOnly(ctx, s.ID, dst, notBlobs)
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if !notBlobs(p) {
			delete(want, p)
		}
	}
	sameTree(t, readTree(t, dst), want)
	if len(got.Files) != len(want) || len(got.Files) == len(s.Files) {
		t.Fatalf("RestoreOnly's snapshot lists %d files, want %d (of %d)", len(got.Files), len(want), len(s.Files))
	}
}

func TestLoadIDs(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	var ids []string
	for i := range 3 {
		writeFile(t, data, "n", []byte{byte(i)}, 0o600)
		ids = append(ids, create(t, r, data, time.Unix(int64(1e9+i), 0)).ID)
	}
	if s, err := r.Load(ctx, "latest"); err != nil || s.ID != ids[2] {
		t.Errorf("latest = %v, %v", s, err)
	}
	if s, err := r.Load(ctx, strings.ToUpper(ids[1][:10])); err != nil || s.ID != ids[1] {
		t.Errorf("prefix = %v, %v", s, err)
	}
	for _, bad := range []string{"abc", "zzzz", "", "../../etc", ids[0] + "0"} {
		if _, err := r.Load(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	for _, name := range []string{"abcd" + strings.Repeat("0", 60), "abcd" + strings.Repeat("1", 60)} {
		writeFile(t, filepath.Join(repo, "snapshots", "sha256", "ab"), name, nil, 0o444)
	}
	if _, err := r.Load(ctx, "abcd"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Load(abcd) = %v, want ErrAmbiguous", err)
	}
	if _, err := r.Load(ctx, "abcd0"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of an empty snapshot file = %v, want ErrCorrupt", err)
	}
}

// TestRestoreKeepsTheTargetsMode: a restore into an existing empty folder
// replaced it with its temporary folder, mode 0700, so a data dir an
// operator prepared with 0750 (for the service's group) came back 0700.
func TestRestoreKeepsTheTargetsMode(t *testing.T) {
	r, _ := newRepo(t)
	data, want := dataDir(t)
	s := create(t, r, data, time.Now())
	for _, mode := range []os.FileMode{0o750, 0o755, 0o700} {
		dst := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dst, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dst, mode) // past the umask
		if _, err := r.Restore(context.Background(), s.ID, dst, nil); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("restored into a %o folder: %v, %v", mode, fi.Mode(), err)
		}
		sameTree(t, readTree(t, dst), want)
	}
}

// TestFailedRestoreLeavesTheEmptyTargetAsItWas: a restore into an
// existing empty folder removes it just before moving the restored tree
// in; when that move fails the folder is made again, empty, with its
// permissions (it was gone), and nothing else is left beside it.
func TestFailedRestoreLeavesTheEmptyTargetAsItWas(t *testing.T) {
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	s := create(t, r, data, time.Now())
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dst, 0o750); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dst, 0o750)
	boom := errors.New("rename: input/output error")
	rename = func(string, string) error { return boom }
	defer func() { rename = os.Rename }()
	if _, err := r.Restore(context.Background(), s.ID, dst, nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the rename's", err)
	}
	fi, err := os.Stat(dst)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("the target after the failed restore: %v, %v", fi, err)
	}
	if names, _ := os.ReadDir(dst); len(names) != 0 {
		t.Errorf("the target is not empty: %v", names)
	}
	if names, _ := os.ReadDir(filepath.Dir(dst)); len(names) != 1 {
		t.Errorf("the failed restore left %v beside the target", names)
	}
}
