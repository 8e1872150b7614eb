package backup

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockFile is the repository's lock; it holds no data.
const lockFile = "lock"

// lockRepo takes the repository lock without waiting: exclusive for
// operations that add or remove data, shared for those that only read. The
// lock belongs to the open file, so two operations of one process exclude
// each other like two processes do, and the kernel drops it when the
// process dies. The returned function releases it.
//
// A repository on a read-only file system that has no lock file (a mirror's
// copy holds none: the bucket mounted read-only, or a copy of it on a disk
// mounted read-only for a restore) is read without the lock: no operation
// has run on it since it was copied, or the file would be there, and none
// can delete from it.
func lockRepo(dir string, exclusive bool) (func(), error) {
	f, err := openLock(filepath.Join(dir, lockFile))
	if err != nil && !exclusive && readOnlyFS(err) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock backup repository: %w", err)
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock backup repository %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// openLock opens the lock file at p, creating it (a variable so that a
// test can put the repository on a read-only file system).
var openLock = func(p string) (*os.File, error) { return os.OpenFile(p, os.O_RDONLY|os.O_CREATE, 0o600) }
