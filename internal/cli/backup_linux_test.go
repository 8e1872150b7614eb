package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRestoreOntoAMountPointSaysWhere: 'phoenix backup restore --to' a
// disk mounted there wrote the snapshot onto the disk the mount hides and
// then failed with "not an empty directory: … device or resource busy" of
// an empty folder. It is refused first, with where to restore instead.
func TestRestoreOntoAMountPointSaysWhere(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER")
	mnt := filepath.Join(t.TempDir(), "phoenix")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, 0) })
	const key = "the key of this backup repository"
	repo := snapshotRepo(t, key, "state.db")
	t.Setenv(BackupKeyEnv, key)
	_, errs, code := run("backup", "restore", "latest", "--repo", repo, "--to", mnt)
	if code != 1 || !strings.Contains(errs, "error: restore to "+mnt+": the target is a mount point\n") ||
		!strings.Contains(errs, "hint: restore into a new folder on the mounted disk (--to MOUNT/data)") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}
