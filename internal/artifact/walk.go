package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// entry is one regular file found in the build folder.
type entry struct {
	rel  string // slash path relative to the folder
	abs  string // file to read (the link target for a followed symlink)
	info fs.FileInfo
	sibs map[string]*entry // precompressed siblings by encoding
	root *os.Root          // the folder: abs is read through it (open)
}

// open opens e's file for reading through the folder's os.Root, so that a
// file or folder swapped for a link while the build runs (by a pipeline
// step still running beside it) cannot make it read anything outside the
// folder.
func (e *entry) open() (*os.File, error) {
	if e.root == nil {
		return os.Open(e.abs)
	}
	rel, err := filepath.Rel(e.root.Name(), e.abs)
	if err != nil {
		return nil, err
	}
	return e.root.Open(rel)
}

// walk lists the regular files under root, applying the symlink policy and
// rejecting special files. It reports up to maxProblems bad paths at once.
// The entries are read through dir, the folder opened as an os.Root,
// which the caller closes.
func walk(root string, opts *BuildOptions) (files []*entry, dir *os.Root, err error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("build %s: %w", root, err)
	}
	if dir, err = os.OpenRoot(realRoot); err != nil {
		return nil, nil, fmt.Errorf("build %s: %w", root, err)
	}
	files, err = walkIn(root, realRoot, opts)
	if err != nil {
		dir.Close()
		return nil, nil, err
	}
	for _, e := range files {
		e.root = dir
	}
	return files, dir, nil
}

func walkIn(root, realRoot string, opts *BuildOptions) ([]*entry, error) {
	var files []*entry
	var bad []error
	err := filepath.WalkDir(realRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == realRoot {
			return nil
		}
		rel := filepath.ToSlash(must(filepath.Rel(realRoot, p)))
		if opts.excluded(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		e, err := classify(realRoot, p, rel, d, opts)
		if err != nil {
			bad = append(bad, err)
			if len(bad) >= maxProblems {
				return errTooMany
			}
			return nil
		}
		files = append(files, e)
		return nil
	})
	if err != nil && !errors.Is(err, errTooMany) {
		return nil, fmt.Errorf("build %s: %w", root, err)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("build %s: %w", root, errors.Join(bad...))
	}
	return files, nil
}

var errTooMany = errors.New("too many problems")

func must(s string, _ error) string { return s }

// classify checks one non-directory entry.
func classify(root, p, rel string, d fs.DirEntry, opts *BuildOptions) (*entry, error) {
	if err := ValidatePath(rel); err != nil {
		return nil, fmt.Errorf("%s: %w; rename the file", p, err)
	}
	t := d.Type()
	switch {
	case t.IsRegular():
		info, err := d.Info()
		if err != nil {
			return nil, err
		}
		return &entry{rel: rel, abs: p, info: info}, nil
	case t&fs.ModeSymlink != 0:
		return followLink(root, p, rel, opts)
	default:
		return nil, fmt.Errorf("%s: is a %s; only regular files can be part of a release", p, kindOf(t))
	}
}

func followLink(root, p, rel string, opts *BuildOptions) (*entry, error) {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("%s: broken symlink: %w", p, err)
	}
	if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s: symlink points outside the folder (to %s); copy the file into the folder instead", p, target)
	}
	if !opts.FollowSymlinks {
		return nil, fmt.Errorf("%s: is a symlink; replace it with the file or set FollowSymlinks", p)
	}
	info, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: symlink points to a %s (%s); only links to regular files are followed", p, kindOf(info.Mode().Type()), target)
	}
	return &entry{rel: rel, abs: target, info: info}, nil
}

func kindOf(t fs.FileMode) string {
	switch {
	case t.IsDir():
		return "directory"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "device file"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "special file"
	}
}

// excluded reports whether rel matches one of opts.Exclude (matched against
// the whole path and against the base name; a pattern that starts with /
// against the whole path only).
func (o *BuildOptions) excluded(rel string, _ bool) bool {
	base := path.Base(rel)
	for _, pat := range o.Exclude {
		if whole, ok := strings.CutPrefix(pat, "/"); ok {
			if m, _ := path.Match(whole, rel); m {
				return true
			}
			continue
		}
		if ok, _ := path.Match(pat, rel); ok {
			return true
		}
		if ok, _ := path.Match(pat, base); ok {
			return true
		}
	}
	return false
}

// siblingExts maps precompressed sibling suffixes to their encoding.
var siblingExts = map[string]string{".gz": EncodingGzip, ".br": EncodingBrotli}

// groupSiblings attaches "x.gz" / "x.br" to "x" when x exists, removing them
// from the file list; they become candidate variants of x.
func groupSiblings(files []*entry) []*entry {
	byRel := make(map[string]*entry, len(files))
	for _, e := range files {
		byRel[e.rel] = e
	}
	isSibling := func(rel string) bool {
		ext := path.Ext(rel)
		_, ok := siblingExts[ext]
		return ok && byRel[strings.TrimSuffix(rel, ext)] != nil
	}
	out := files[:0]
	for _, e := range files {
		ext := path.Ext(e.rel)
		base := strings.TrimSuffix(e.rel, ext)
		if isSibling(e.rel) && !isSibling(base) {
			b := byRel[base]
			if b.sibs == nil {
				b.sibs = map[string]*entry{}
			}
			b.sibs[siblingExts[ext]] = e
			continue
		}
		out = append(out, e)
	}
	return out
}
