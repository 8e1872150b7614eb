package lockfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the files Load looks for, in order of preference per ecosystem.
var Names = []string{"npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "go.mod", "go.sum"}

// MaxFileSize bounds how much of a lockfile is read.
const MaxFileSize = 256 << 20

// Parse reads one lockfile, choosing the parser by the file's base name.
// m may be nil.
func Parse(path string, data []byte, m *Manifest) (*Lockfile, error) {
	switch filepath.Base(path) {
	case "package-lock.json", "npm-shrinkwrap.json":
		return ParseNPM(path, data, m)
	case "pnpm-lock.yaml":
		return ParsePNPM(path, data)
	case "yarn.lock":
		return ParseYarn(path, data, m)
	case "go.mod":
		return ParseGoMod(path, data)
	case "go.sum":
		return ParseGoSum(path, data)
	}
	return nil, fmt.Errorf("%s: unknown lockfile name; want one of %v", path, Names)
}

// Load finds and parses the lockfiles in dir (not in sub-folders). A
// dir with none, whose package.json makes it a package of the workspace
// root above it (package.json workspaces, pnpm-workspace.yaml) that
// holds the nearest lockfile, gets that root's npm, pnpm or yarn
// lockfiles read for its package only (Lockfile.Workspace says so). When
// npm-shrinkwrap.json exists package-lock.json is ignored, as npm does; go.sum
// is read only when there is no go.mod. A lockfile that fails to parse is
// returned as an error joined to the others while the rest are still
// returned. No lockfile at all is an error.
func Load(ctx context.Context, dir string) ([]*Lockfile, error) {
	top := Boundary(dir)
	m, merr := readManifest(top, filepath.Join(dir, "package.json"))
	out, errs, err := readEach(ctx, top, dir, Names, func(path string, data []byte) (*Lockfile, error) { return Parse(path, data, m) })
	if err != nil {
		return out, err
	}
	if merr != nil {
		errs = append([]error{merr}, errs...)
	}
	if len(out) == 0 && len(errs) == 0 {
		if above := lockfileAbove(dir); above != "" {
			if locks, ok, err := loadWorkspace(ctx, dir, m, above); ok {
				return locks, err
			}
			return nil, fmt.Errorf("%s: no lockfile found (looked for %v); the nearest is %s, in a folder above, "+
				"which is not the root of a workspace that has this folder (with its package.json) as one of its packages: "+
				"only the folder's own lockfiles are read, so check the folder that holds it", dir, Names, above)
		}
		return nil, fmt.Errorf("%s: no lockfile found (looked for %v); run npm install or go mod tidy first", dir, Names)
	}
	return out, errors.Join(errs...)
}

// lockfileAbove is the nearest lockfile in a folder above dir, within its
// repository (the search stops at a folder holding .git), as the path from
// dir; "" when there is none. An app of an npm, pnpm or yarn workspace has
// none of its own: its workspace root's holds its packages.
func lockfileAbove(dir string) (above string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	walkUp(abs, func(folder string) bool {
		for _, name := range Names {
			if _, err := os.Lstat(filepath.Join(folder, name)); err == nil {
				above, _ = filepath.Rel(abs, filepath.Join(folder, name))
				return true
			}
		}
		return false
	})
	return above
}

// walkUp calls found with each folder above the absolute folder abs,
// nearest first, until found returns true or the repository's top (a
// folder holding .git) or the filesystem's has been passed to it.
func walkUp(abs string, found func(folder string) bool) {
	for cur := abs; ; {
		if repoTop(cur) {
			return
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return
		}
		cur = parent
		if found(cur) {
			return
		}
	}
}

// repoTop reports whether folder is a repository's top: it holds .git.
func repoTop(folder string) bool {
	_, err := os.Lstat(filepath.Join(folder, ".git"))
	return err == nil
}

// readEach parses with parse each of the files names in dir that exists
// (skip aside), read within the boundary top. The files it cannot read or
// parse are errs; err is the context's.
func readEach(ctx context.Context, top, dir string, names []string, parse func(path string, data []byte) (*Lockfile, error)) (out []*Lockfile, errs []error, err error) {
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, nil, err
		}
		if skip(dir, name) {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := readFile(top, path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l, err := parse(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	return out, errs, nil
}

func skip(dir, name string) bool {
	exists := func(n string) bool { _, err := os.Lstat(filepath.Join(dir, n)); return err == nil }
	return name == "package-lock.json" && exists("npm-shrinkwrap.json") || name == "go.sum" && exists("go.mod")
}

// ReadManifest reads package.json; a missing file gives nil and no error.
// It is read within the Boundary of its folder: one that is a symbolic
// link leading outside it is an error (ErrOutside).
func ReadManifest(path string) (*Manifest, error) {
	return readManifest(Boundary(filepath.Dir(path)), path)
}

// readManifest is ReadManifest within the boundary top.
func readManifest(top, path string) (*Manifest, error) {
	data, err := readFile(top, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %w", path, jsonErr(data, err))
	}
	return &m, nil
}
