package license

import (
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
)

// files reads a package's files: a project's through the fs.FS of an
// os.Root at its boundary, which follows a symbolic link only within it;
// a Go module's in the module cache.
type files struct {
	fsys fs.FS
	// base is the project's folder in fsys ("." or "frontend"): the
	// paths skipped names are relative to it
	base    string
	skipped []string
}

// read is the content of the file name of f, nil when it cannot be read
// or has more than max bytes. One leading outside the boundary is noted.
func (f *files) read(name string, max int64) []byte {
	file, err := f.fsys.Open(name)
	if err != nil {
		f.note(name, err)
		return nil
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, max+1))
	if err != nil || int64(len(data)) > max {
		return nil
	}
	return data
}

// note records, when err is the refusal of name for leading outside the
// boundary, that it was not read: a hostile repository's
// node_modules/x -> /etc is not the package's licence, and what it leads
// to is not named.
func (f *files) note(name string, err error) {
	if !lockfile.IsEscape(err) {
		return
	}
	f.skipped = append(f.skipped, fmt.Sprintf("%s: not read: %s; only files inside it are read", f.rel(name), lockfile.ErrOutside))
}

// rel is the path name of fsys relative to the project's folder.
func (f *files) rel(name string) string {
	if f.base == "." {
		return name
	}
	return strings.TrimPrefix(name, f.base+"/")
}
