package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// Restore writes a snapshot's files into dst, which must not exist or be an
// empty directory (else ErrTargetNotEmpty). The files are written into a
// temporary sibling directory, each checked against its digest and synced,
// and the directory is renamed to dst only when all are in place: on any
// error dst is left as it was.
func (r *Repo) Restore(ctx context.Context, idOrPrefix, dst string, progress func(done, total int64)) (*Snapshot, error) {
	return r.restoreSome(ctx, idOrPrefix, dst, nil, progress)
}

// RestoreOnly is Restore of only the files whose path keep accepts; the
// snapshot it returns lists those files. A restore test uses it to write
// the database and keys while Verify reads the blobs back without writing
// them.
func (r *Repo) RestoreOnly(ctx context.Context, idOrPrefix, dst string, keep func(path string) bool) (*Snapshot, error) {
	return r.restoreSome(ctx, idOrPrefix, dst, keep, nil)
}

func (r *Repo) restoreSome(ctx context.Context, idOrPrefix, dst string, keep func(string) bool, progress func(done, total int64)) (*Snapshot, error) {
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	target, _, err := checkTarget(dst) // before reading the repository
	if err != nil {
		return nil, fmt.Errorf("restore to %s: %w", dst, err)
	}
	s, err := r.resolve(ctx, idOrPrefix)
	if err != nil {
		return nil, err
	}
	wanted := func(path string) bool { return !excluded(path) && (keep == nil || keep(path)) }
	if slices.ContainsFunc(s.Files, func(e Entry) bool { return !wanted(e.Path) }) {
		some := *s
		some.Files = slices.DeleteFunc(slices.Clone(s.Files), func(e Entry) bool { return !wanted(e.Path) })
		some.Size = 0
		for _, e := range some.Files {
			some.Size += e.Size
		}
		s = &some
	}
	if err := checkSpace(target, s); err != nil { // before writing anything
		return nil, fmt.Errorf("restore snapshot %s to %s: %w", shortID(s.ID), dst, err)
	}
	prog := meterFor(s, progress)
	if err := IntoNewDir(dst, "restore", func(tmp string) error { return r.fill(ctx, s, tmp, prog) }); err != nil {
		return nil, fmt.Errorf("restore snapshot %s to %s: %w", shortID(s.ID), dst, err)
	}
	return s, nil
}

// SpaceError is Restore's error when the file system it would write to
// has less free space than the snapshot needs. It wraps ErrNoSpace.
type SpaceError struct {
	Path   string // the folder whose file system was measured
	Needed int64  // bytes the files take there, rounded up to its blocks
	Free   int64  // bytes available to this process there
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("not enough free space: the restore needs %d bytes, and the file system holding %s has %d bytes free", e.Needed, e.Path, e.Free)
}

// Unwrap makes a SpaceError an ErrNoSpace.
func (e *SpaceError) Unwrap() error { return ErrNoSpace }

// freeSpace returns the bytes available to this process on the file
// system holding dir and its block size; ok is false where it cannot tell
// (restore_unix.go). A variable, so that a test can pretend there is room.
var freeSpace = fsFree

// checkSpace fails with a *SpaceError when the file system the folder for
// target is made on (its nearest existing ancestor's) has less room than
// s's files take there, each rounded up to whole blocks, plus a block per
// folder: a restore that would fill the disk half way is refused before
// it writes anything.
func checkSpace(target string, s *Snapshot) error {
	dir := filepath.Dir(filepath.Clean(target))
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			break
		}
		dir = filepath.Dir(dir)
	}
	free, block, ok := freeSpace(dir)
	if !ok {
		return nil
	}
	block = max(block, 1)
	needed := block // the folder itself
	dirs := map[string]bool{}
	for _, e := range s.Files {
		needed += (e.Size + block - 1) / block * block
		for d := path.Dir(e.Path); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			needed += block
		}
	}
	if needed > free {
		return &SpaceError{Path: dir, Needed: needed, Free: free}
	}
	return nil
}

// CheckNewDir fails with ErrTargetNotEmpty unless dst does not exist or is
// an empty directory (or a symbolic link to one), and with ErrMountPoint
// when dst is a mount point: the targets IntoNewDir fills.
func CheckNewDir(dst string) error {
	_, _, err := checkTarget(dst)
	return err
}

// checkTarget returns the folder to make for dst: dst, or the folder a
// symbolic link at dst points to (a data dir is often a link to a folder
// on another disk), and whether it is an empty directory to replace. It
// fails with ErrTargetNotEmpty when the folder holds anything or is not
// a directory, and with ErrMountPoint when it is a mount point: a mount
// point cannot be replaced, and the temporary folder beside it would be
// on the file system the mount hides, another disk.
func checkTarget(dst string) (string, bool, error) {
	fi, err := os.Lstat(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return dst, false, nil
	} else if err != nil {
		return dst, false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if dst, err = filepath.EvalSymlinks(dst); err != nil {
			return dst, false, fmt.Errorf("%w: %v", ErrTargetNotEmpty, err)
		}
		if fi, err = os.Stat(dst); err != nil {
			return dst, false, err
		}
	}
	if !fi.IsDir() {
		return dst, false, ErrTargetNotEmpty
	}
	if mountPoint(dst, fi) {
		return dst, false, ErrMountPoint
	}
	names, err := readDirNames(dst)
	if err != nil {
		return dst, false, err
	}
	if len(names) > 0 {
		return dst, false, ErrTargetNotEmpty
	}
	return dst, true, nil
}

// IntoNewDir makes dst, which must not exist or be an empty directory
// (else ErrTargetNotEmpty; through a symbolic link, the folder it points
// to; not a mount point, ErrMountPoint), from a temporary sibling "<dst>.<tag>-*" that
// fill writes: the sibling is renamed to dst only when fill succeeds, and
// on any error it is removed and dst is left as it was. Restore and a
// mirror's Pull make their folders this way.
func IntoNewDir(dst, tag string, fill func(tmp string) error) error {
	dst, replace, err := checkTarget(dst)
	if err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dst))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dst)+"."+tag+"-*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := moveInto(tmp, dst, replace); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return syncDir(parent)
}

// moveInto renames the finished directory tmp to dst, first removing dst
// when it is the empty directory the caller named. The folder an operator
// prepared (a data dir owned by the service's user, mode 0750) must come
// back as it was, not as the 0700 temporary folder of whoever restored:
// tmp first takes dst's mode and, where this process may (root), its owner
// and group, which every file and folder inside takes too (takeOwner).
// When the rename then fails, that empty directory is made again with its
// mode and owner, so it is not lost to a failed restore.
func moveInto(tmp, dst string, replace bool) error {
	if !replace {
		return rename(tmp, dst)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return err
	}
	if err := takeOwner(tmp, fi); err != nil {
		return err
	}
	if err := os.Chmod(tmp, dirMode(fi)); err != nil { // after chown, which may clear setgid
		return err
	}
	if err := os.Remove(dst); err != nil {
		return fmt.Errorf("%w: %v", ErrTargetNotEmpty, err)
	}
	if err := rename(tmp, dst); err != nil {
		if os.Mkdir(dst, 0o700) == nil {
			takeOwner(dst, fi)
			os.Chmod(dst, dirMode(fi)) // past the umask
		}
		return err
	}
	return nil
}

// dirMode is the part of a directory's mode that chmod sets: its
// permissions and the setgid and sticky bits (a shared folder's setgid
// makes what is created in it take its group).
func dirMode(fi fs.FileInfo) fs.FileMode {
	return fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSticky)
}

// rename is os.Rename; a test makes it fail.
var rename = os.Rename

// fill writes every file of s under dir and syncs the directories.
func (r *Repo) fill(ctx context.Context, s *Snapshot, dir string, prog *meter) error {
	dirs := map[string]bool{dir: true}
	for _, e := range s.Files {
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		if err := mkdirs(dir, filepath.Dir(p), dirs); err != nil {
			return err
		}
	}
	err := forEach(ctx, len(s.Files), func(ctx context.Context, i int) error {
		e := s.Files[i]
		if err := r.restoreFile(ctx, e, filepath.Join(dir, filepath.FromSlash(e.Path)), prog); err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	for _, d := range names {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// mkdirs creates d (0700) and its parents up to root, recording them.
func mkdirs(root, d string, made map[string]bool) error {
	if made[d] {
		return nil
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	for ; d != root && !made[d]; d = filepath.Dir(d) {
		made[d] = true
	}
	return nil
}

// restoreFile writes e's content to p, checking it, then sets its mode and
// syncs it.
func (r *Repo) restoreFile(ctx context.Context, e Entry, p string, prog *meter) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = r.readEntry(ctx, e, f, prog)
	if err == nil {
		err = f.Chmod(e.Mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
