package backup

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// dbFile is the database, which may be copied through CreateOptions.SnapshotDB.
const dbFile = "state.db"

// blobDir holds the data dir's content-addressed blobs, named by digest.
const blobDir = "blobs/" + backend.Algorithm + "/"

// source is a file to back up.
type source struct {
	rel  string      // slash-separated, relative to the data dir
	abs  string      // where to read it
	mode fs.FileMode // permission bits
	size int64       // at the walk
	blob bool        // content-addressed: its name is its digest
}

// nameDigest is the digest a content-addressed blob is named by.
func (s source) nameDigest() backend.Digest {
	return backend.Digest(backend.Algorithm + ":" + path.Base(s.rel))
}

// walker lists the regular files of a data dir.
type walker struct {
	root   string
	skip   os.FileInfo // the repository, if it lies inside the data dir
	skipDB bool        // state.db comes from SnapshotDB
	files  []source
}

// walk lists the files to back up under root, skipping runtime files,
// symlinks, special files and the repository itself.
func walk(ctx context.Context, root, repoDir string, skipDB bool) ([]source, error) {
	w := &walker{root: root, skipDB: skipDB}
	w.skip, _ = os.Stat(repoDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return w.visit(p, d, err)
	})
	return w.files, err
}

func (w *walker) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		if p != w.root && errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walked
		}
		return err
	}
	if p == w.root {
		return nil
	}
	rel, err := filepath.Rel(w.root, p)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	if excluded(rel) || (w.skipDB && rel == dbFile) {
		return skip(d)
	}
	if d.IsDir() {
		return w.dir(d)
	}
	if !d.Type().IsRegular() {
		return nil // symlinks, sockets, devices: not part of a data dir
	}
	return w.file(p, rel, d)
}

// skip leaves out the entry d, and all below it for a directory.
func skip(d fs.DirEntry) error {
	if d.IsDir() {
		return filepath.SkipDir
	}
	return nil
}

// dir skips the repository when it lies inside the data dir.
func (w *walker) dir(d fs.DirEntry) error {
	if w.skip == nil {
		return nil
	}
	if fi, err := d.Info(); err == nil && os.SameFile(fi, w.skip) {
		return filepath.SkipDir
	}
	return nil
}

func (w *walker) file(p, rel string, d fs.DirEntry) error {
	fi, err := d.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	s := source{rel: rel, abs: p, mode: fi.Mode().Perm(), size: fi.Size()}
	s.blob = strings.HasPrefix(rel, blobDir) && s.nameDigest().Validate() == nil
	w.files = append(w.files, s)
	return nil
}
