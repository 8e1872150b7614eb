//go:build windows

package app

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on one byte of f without waiting
// (LockFileEx); Windows drops it when the process dies, as flock does. The
// byte lies at 4 GiB, past the pid the file holds, so another process can
// still read who holds the lock.
func lockFile(f *os.File) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockAt())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}

func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockAt())
}

// lockAt is the locked byte's offset: 4 GiB.
func lockAt() *windows.Overlapped { return &windows.Overlapped{OffsetHigh: 1} }
