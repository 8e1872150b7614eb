package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestRestoreToAMountPoint: a restore onto a disk mounted at the target
// (a new data disk at /var/lib/phoenix) wrote the whole snapshot into a
// temporary folder beside the mount point, on the disk the mount hides,
// then failed to replace the mount point ("the target exists and is not an
// empty directory: remove …: device or resource busy"). It is refused
// before anything is written, as a mount point.
func TestRestoreToAMountPoint(t *testing.T) {
	dst := testkit.MountTmpfs(t, "mnt", "4m")
	parent := filepath.Dir(dst)

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

// TestRestoreChecksFreeSpace: a restore onto a disk too small for the
// snapshot wrote until the disk was full and failed with "no space left
// on device" on whichever file it was at. It is refused before anything
// is written, with what it needs, what is free and where; and a write
// that fails half way all the same (the disk filled meanwhile) leaves
// neither the target nor the temporary folder behind.
func TestRestoreChecksFreeSpace(t *testing.T) {
	ctx := context.Background()
	disk := testkit.MountTmpfs(t, "mnt", "256k")
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	writeFile(t, data, "blobs/big", bytes.Repeat([]byte("0123456789abcdef"), 1<<16), 0o600) // 1 MiB
	s := create(t, r, data, time.Now())
	dst := filepath.Join(disk, "data")

	_, err := r.Restore(ctx, s.ID, dst, nil)
	var se *SpaceError
	if !errors.As(err, &se) || !errors.Is(err, ErrNoSpace) || se.Path != disk || se.Needed < s.Size || se.Free > 256<<10 ||
		!strings.Contains(err.Error(), fmt.Sprintf("needs %d bytes", se.Needed)) || !strings.Contains(err.Error(), disk+" has ") {
		t.Fatalf("Restore onto a disk too small = %v; want a SpaceError naming %s, what it needs and what is free", err, disk)
	}
	if names, _ := os.ReadDir(disk); len(names) != 0 {
		t.Errorf("a restore refused for space wrote %v", names)
	}

	saved := freeSpace
	t.Cleanup(func() { freeSpace = saved })
	freeSpace = func(string) (int64, int64, bool) { return 1 << 40, 4096, true } // room, it says
	if _, err := r.Restore(ctx, s.ID, dst, nil); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Restore filling the disk = %v, want ENOSPC", err)
	}
	if names, _ := os.ReadDir(disk); len(names) != 0 {
		t.Errorf("a restore that filled the disk left %v", names)
	}
}
