//go:build unix

package backup

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The owner and group of a data dir root prepared for the service's user.
const serviceUID, serviceGID = 4242, 4343

// preparedDir makes an empty folder owned by serviceUID:serviceGID with
// mode 02750, as an operator prepares a data dir; only root can.
func preparedDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only root can make a folder another user owns")
	}
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dst, serviceUID, serviceGID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o750|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	return dst
}

// ownedBy fails unless everything under root (root included) belongs to
// uid:gid.
func ownedBy(t *testing.T, root string, uid, gid uint32) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
			t.Errorf("%s belongs to %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRootRestoresForTheFoldersOwner: root restoring into an empty data
// dir the service's user owns (0750, setgid) left a folder owned by root,
// mode 0700, with root's files in it: the service could not open its
// restored data dir. The folder keeps its owner, group and mode, and what
// is restored in it is the folder owner's, each file with its own mode.
func TestRootRestoresForTheFoldersOwner(t *testing.T) {
	dst := preparedDir(t)
	r, _ := newRepo(t)
	data, want := dataDir(t)
	s := create(t, r, data, time.Now())
	if _, err := r.Restore(context.Background(), s.ID, dst, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode()&(fs.ModePerm|fs.ModeSetgid) != 0o750|fs.ModeSetgid {
		t.Errorf("the restored folder: %v, %v; want mode 0750 and setgid", fi.Mode(), err)
	}
	ownedBy(t, dst, serviceUID, serviceGID)
	sameTree(t, readTree(t, dst), want)
}

// TestFailedRootRestoreKeepsTheFoldersOwner: when the last move fails the
// folder made again is the owner's, not root's.
func TestFailedRootRestoreKeepsTheFoldersOwner(t *testing.T) {
	dst := preparedDir(t)
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	s := create(t, r, data, time.Now())
	boom := errors.New("rename: input/output error")
	rename = func(string, string) error { return boom }
	defer func() { rename = os.Rename }()
	if _, err := r.Restore(context.Background(), s.ID, dst, nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the rename's", err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode()&(fs.ModePerm|fs.ModeSetgid) != 0o750|fs.ModeSetgid {
		t.Errorf("the folder made again: %v, %v", fi.Mode(), err)
	}
	ownedBy(t, dst, serviceUID, serviceGID)
}
