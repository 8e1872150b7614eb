package local

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// syncTemps makes the batch's temporary files durable.
func syncTemps(root string, pending map[backend.Digest]string) error {
	if len(pending) <= maxFsyncFiles {
		return fsyncFiles(pending)
	}
	return syncfs(root)
}

// syncDirs makes the renames into dirs durable.
func syncDirs(root string, dirs map[string]bool) error {
	if len(dirs) <= maxFsyncDirs {
		return fsyncDirs(dirs)
	}
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
