package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// dataLock is an exclusive flock on <data>/phoenix.lock, so two servers
// never share one data dir. The kernel drops it when the process dies, so a
// crash never leaves a stale lock behind.
type dataLock struct{ f *os.File }

func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, "phoenix.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, usererr.Wrap(usererr.Conflict, ErrDataDirInUse, fmt.Sprintf("data dir %s is in use by another phoenix server (pid %s)",
				dir, lockHolder(dir))).
				WithHint("stop that server, or give this one its own --data DIR")
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &dataLock{f: f}, nil
}

// lockHolder is the pid the holder of dir's lock wrote in it ("" if none).
func lockHolder(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "phoenix.lock"))
	return strings.TrimSpace(string(b))
}

// ErrDataDirInUse is the cause of Start's error when another process
// holds the data dir: the CLI then talks to that server instead. Any other
// conflict (a database in use, say) is an error of its own.
var ErrDataDirInUse = errors.New("data dir in use by another process")

// errLocked is what lockFile returns when another process holds the lock.
var errLocked = errors.New("locked by another process")

func (l *dataLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	return errors.Join(err, l.f.Close())
}
