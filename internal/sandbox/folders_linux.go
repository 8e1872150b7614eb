//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// folders caches the entries of the folders on the way to hidden paths
// (/, /var, /var/lib for /var/lib/phoenix), each with an O_PATH
// descriptor, so starting a step adds its rules without listing, opening
// and examining those entries again: a few hundred in /tmp cost about a
// millisecond a step. A folder is listed again when it changed.
var folders = &folderCache{m: map[string]*cachedFolder{}}

type folderCache struct {
	sync.Mutex // held while the descriptors are used (ruleset)
	m          map[string]*cachedFolder
}

// cachedFolder is a folder's entries as listed when its stamp was taken.
type cachedFolder struct {
	stamp   folderStamp
	entries []cachedEntry
}

// folderStamp tells whether a folder changed: adding, removing or
// renaming an entry changes its modification and change times.
type folderStamp struct {
	dev, ino     uint64
	mtime, ctime int64
}

// cachedEntry is an entry of a folder (links left out, which rules never
// allow), open as fd.
type cachedEntry struct {
	path string
	fd   int
	dir  bool
	id   fileID
}

// entries returns dir's entries, listing them again only when dir
// changed. A folder not there, or that the server's user may not list,
// has none. The caller holds c.
func (c *folderCache) entries(dir string) ([]cachedEntry, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		c.drop(dir)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) {
			return nil, nil
		}
		return nil, fmt.Errorf("sandbox: %s: %w", dir, err)
	}
	stamp := folderStamp{uint64(st.Dev), st.Ino, st.Mtim.Nano(), st.Ctim.Nano()}
	if f := c.m[dir]; f != nil && f.stamp == stamp {
		return f.entries, nil
	}
	c.drop(dir)
	list, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	f := &cachedFolder{stamp: stamp}
	for _, e := range list {
		if e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		if ce, ok := openEntry(filepath.Join(dir, e.Name())); ok {
			f.entries = append(f.entries, ce)
		}
	}
	c.m[dir] = f
	return f.entries, nil
}

// openEntry opens path (not following a link) and examines it; false
// when it is gone since it was listed.
func openEntry(path string) (cachedEntry, bool) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return cachedEntry{}, false
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		unix.Close(fd)
		return cachedEntry{}, false
	}
	return cachedEntry{path: path, fd: fd, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR, id: fileID{uint64(st.Dev), st.Ino}}, true
}

// drop forgets dir, closing its descriptors.
func (c *folderCache) drop(dir string) {
	if f := c.m[dir]; f != nil {
		for _, e := range f.entries {
			unix.Close(e.fd)
		}
		delete(c.m, dir)
	}
}
