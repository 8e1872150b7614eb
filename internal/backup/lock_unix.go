//go:build unix && !aix

package backup

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flock locks f with flock(2), failing with ErrLocked instead of waiting.
func flock(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

// readOnlyFS reports whether err says the file system is read-only.
func readOnlyFS(err error) bool { return errors.Is(err, unix.EROFS) }
