package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestRestoreOntoAMountPointSaysWhere: 'phoenix backup restore --to' a
// disk mounted there wrote the snapshot onto the disk the mount hides and
// then failed with "not an empty directory: … device or resource busy" of
// an empty folder. It is refused first, with where to restore instead.
func TestRestoreOntoAMountPointSaysWhere(t *testing.T) {
	mnt := testkit.MountTmpfs(t, "phoenix", "4m")
	errs, code := restoreLatest(t, mnt)
	if code != 1 || !strings.Contains(errs, "error: restore to "+mnt+": the target is a mount point\n") ||
		!strings.Contains(errs, "hint: restore into a new folder on the mounted disk (--to MOUNT/data)") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}

// TestRestoreTooLargeForTheDisk: 'phoenix backup restore' onto a disk
// with too little room wrote until it was full and failed with "no space
// left on device" of one file. It is refused before anything is written,
// naming what it needs, what is free and where (exit 1).
func TestRestoreTooLargeForTheDisk(t *testing.T) {
	mnt := testkit.MountTmpfs(t, "phoenix", "4k")
	to := filepath.Join(mnt, "data")
	errs, code := restoreLatest(t, to)
	if code != 1 || !strings.Contains(errs, "error: not enough free space to restore into "+to+": it needs ") ||
		!strings.Contains(errs, "and the file system holding "+mnt+" has ") || !strings.Contains(errs, "free; nothing was written\n") ||
		!strings.Contains(errs, "hint: free ") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	if names, _ := os.ReadDir(mnt); len(names) != 0 {
		t.Errorf("the refused restore wrote %v", names)
	}
}

// restoreLatest runs 'phoenix backup restore latest --to to' from a new
// repository of one snapshot and returns its stderr and exit code.
func restoreLatest(t *testing.T, to string) (string, int) {
	t.Helper()
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER")
	const key = "the key of this backup repository"
	repo := snapshotRepo(t, key, "state.db")
	t.Setenv(BackupKeyEnv, key)
	_, errs, code := run("backup", "restore", "latest", "--repo", repo, "--to", to)
	return errs, code
}
