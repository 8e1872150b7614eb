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
func lockRepo(dir string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock backup repository: %w", err)
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock backup repository %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
