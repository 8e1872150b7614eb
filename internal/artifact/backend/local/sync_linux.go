package local

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// syncTemps flushes the whole filesystem holding root with one syncfs(2),
// which covers every temporary file of the batch.
func syncTemps(root string, _ map[backend.Digest]string) error {
	return syncfs(root)
}

// syncDirs makes the renames durable, again with one syncfs(2).
func syncDirs(root string, _ map[string]bool) error {
	return syncfs(root)
}

func syncfs(root string) error {
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: root, Err: err}
	}
	return nil
}
