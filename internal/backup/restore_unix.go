//go:build unix

package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// mountPoint reports whether the directory dir (fi) is a mount point: its
// parent is on another device.
func mountPoint(dir string, fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	pfi, err := os.Stat(filepath.Dir(filepath.Clean(dir)))
	if err != nil {
		return false
	}
	pst, ok := pfi.Sys().(*syscall.Stat_t)
	return ok && pst.Dev != st.Dev
}

// fsFree returns the bytes available to an unprivileged process on the
// file system holding dir, and its block size.
func fsFree(dir string) (free, block int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Bsize), true
}

// takeOwner gives the folder dir and everything in it like's owner and
// group when this process runs as root and like belongs to someone else:
// root restoring into a data dir the service's user owns must leave files
// that user can open. Anyone else cannot give files away (and owns what
// it restores), so nothing changes; nor does it for a root that may not
// (in a user namespace, an owner it does not map), which the chown of dir
// itself tells. Symbolic links are changed, not followed. What is
// restored carries permission bits only, no setuid or setgid bit for the
// chown to clear.
func takeOwner(dir string, like fs.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if uid == os.Geteuid() && gid == os.Getegid() {
		return nil
	}
	if err := os.Lchown(dir, uid, gid); errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EINVAL) {
		return nil
	} else if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
