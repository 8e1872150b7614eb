package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRestoreToAMountPoint: a restore onto a disk mounted at the target
// (a new data disk at /var/lib/phoenix) wrote the whole snapshot into a
// temporary folder beside the mount point, on the disk the mount hides,
// then failed to replace the mount point ("the target exists and is not an
// empty directory: remove …: device or resource busy"). It is refused
// before anything is written, as a mount point.
func TestRestoreToAMountPoint(t *testing.T) {
	parent := t.TempDir()
	dst := filepath.Join(parent, "mnt")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dst, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	t.Cleanup(func() { unix.Unmount(dst, 0) })

	r, _ := newRepo(t)
	data, _ := dataDir(t)
	s := create(t, r, data, time.Now())
	if _, err := r.Restore(context.Background(), s.ID, dst, nil); !errors.Is(err, ErrMountPoint) {
		t.Errorf("Restore onto a mount point = %v, want ErrMountPoint", err)
	}
	if names, _ := os.ReadDir(parent); len(names) != 1 {
		t.Errorf("Restore left %v beside the mount point", names)
	}
	if names, _ := os.ReadDir(dst); len(names) != 0 {
		t.Errorf("Restore wrote %v onto the mount point", names)
	}
	sub := filepath.Join(dst, "data")
	if _, err := r.Restore(context.Background(), s.ID, sub, nil); err != nil {
		t.Errorf("Restore into a new folder on the mounted disk: %v", err)
	}
}
