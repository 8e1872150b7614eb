package lockfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrOutside is the error of a project file that is, or is in a folder
// that is, a symbolic link leading outside the project's boundary
// (Boundary): a hostile repository could otherwise have the gates read,
// and echo in their errors, any file of the machine (node_modules/x ->
// /etc, package.json -> ~/.npmrc).
var ErrOutside = errors.New("a symbolic link leads outside the project")

// Boundary is the folder within which the gates read the files of the
// project in dir: the repository's top (the nearest folder at or above dir
// that holds .git, where the search for a workspace's lockfile stops too),
// else dir itself. A symbolic link inside it is followed only as far as it
// stays inside it. dir is made absolute; it is returned as it is when it
// cannot be.
func Boundary(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	last := abs // walkUp's last folder: the repository's top, else the filesystem's
	walkUp(abs, func(folder string) bool { last = folder; return false })
	if repoTop(last) {
		return last
	}
	return abs
}

// Within is the path of the file path relative to the folder top,
// slash-separated, as os.Root and fs.FS name it; ok is false when path is
// not below top (lexically: symbolic links are os.Root's to check).
func Within(top, path string) (rel string, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err = filepath.Rel(top, abs)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// IsEscape reports whether err is os.Root's refusal of a path that leads
// outside it: the error is not exported, so its text is compared (a test
// of this package keeps them in step).
func IsEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent"
}

// outsideErr is the error of reading path, inside the project, that leads
// outside top: it names path, never where the link leads.
func outsideErr(path, top string) error {
	return fmt.Errorf("%s: not read: %w (%s); only files inside it are read", path, ErrOutside, top)
}

// readFile reads the file at path, of at most MaxFileSize bytes, through
// an os.Root at top, the project's boundary: a symbolic link is followed
// only within it. A missing file's error is fs.ErrNotExist; one that
// leads outside is ErrOutside, naming path.
func readFile(top, path string) ([]byte, error) {
	rel, ok := Within(top, path)
	if !ok {
		return nil, outsideErr(path, top)
	}
	root, err := os.OpenRoot(top)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if IsEscape(err) {
		return nil, outsideErr(path, top)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: pe.Err} // named as the caller did, not from top
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes is larger than the %d byte limit", path, st.Size(), MaxFileSize)
	}
	return io.ReadAll(f)
}
