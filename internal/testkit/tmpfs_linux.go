package testkit

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// MountTmpfs mounts a tmpfs of size ("4m", "256k") at a new folder name in
// a temporary directory and returns the folder, unmounted when the test
// ends: a disk of its own (a mount point, a file system that fills). It
// skips the test where it cannot mount (it needs root).
func MountTmpfs(t testing.TB, name, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}
