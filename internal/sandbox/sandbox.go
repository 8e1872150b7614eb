// Package sandbox confines the processes Phoenix starts for pipeline steps
// (a build, an npm install script of any dependency, a test) so they
// cannot reach Phoenix's own files: the data dir (state.db, the vault, the
// blobs, other projects' runs), the master key and the other key files the
// server was given. Everything else stays as the server's user sees it, so
// a build needs no list of what it may use.
//
// On Linux it uses Landlock (5.19 or later; the calling thread, never the
// server, is confined, and every process the step starts inherits it). A
// confined process also cannot trace the server or read its memory
// (Landlock refuses ptrace and /proc/<pid>/mem outside the sandbox, even
// to root) and, from Linux 6.12, cannot signal it. Landlock does not
// guard /proc/<pid>/environ or a file's attributes (times, mode).
//
// Landlock only allows, so "everything except the hidden paths" is the
// entries of every folder on the way to a hidden path, except that path:
// a confined process cannot create new entries directly in such a folder
// (in / or, with the data dir under /tmp, in /tmp), which is why steps get
// a TMPDIR of their own.
package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Policy is what a confined process may reach: everything its user may,
// except Hidden paths (neither read, written, listed nor executed); inside
// them only Open paths (fully) and ReadOnly paths (read and execute).
type Policy struct {
	Hidden   []string
	Open     []string
	ReadOnly []string
}

// ErrUnsupported wraps the reason this system cannot confine a process.
var ErrUnsupported = errors.New("cannot confine processes")

// access is what a rule allows beneath its path.
type access int

const (
	full access = iota
	readOnly
)

// rule allows access beneath path; a folder rule instead allows each
// entry of the folder path (a folder on the way to hidden paths) but
// those named in skip and links, not the folder itself.
type rule struct {
	path   string
	access access
	folder bool
	skip   []string // a folder rule's entries not allowed: hidden paths and folders on the way to them
}

// allows reports whether a folder rule allows its entry at path, of
// type typ (a link is followed to where it points, checked there).
func (r rule) allows(path string, typ fs.FileMode) bool {
	return typ&fs.ModeSymlink == 0 && !slices.Contains(r.skip, path)
}

// rules returns the path rules that express p: / by the entries of
// every folder on the way to the hidden paths except those paths, then
// each Open and ReadOnly path. An Open or ReadOnly path may not hold a
// hidden one: it could only be given its present entries. guarded are
// the hidden paths and the folders on the way to them: a rule whose path
// is one of them under another name (a bind mount, a hard link) would
// allow what they hide, so the platform code skips such rules.
func (p Policy) rules() (rules []rule, guarded []string, err error) {
	hidden, err := resolve(p.Hidden)
	if err != nil {
		return nil, nil, err
	}
	hidden = outermost(hidden)
	open, err := resolve(p.Open)
	if err != nil {
		return nil, nil, err
	}
	ro, err := resolve(p.ReadOnly)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range append(slices.Clone(open), ro...) {
		for _, h := range hidden {
			if h != o && within(h, o) {
				return nil, nil, fmt.Errorf("sandbox: %s holds %s, which steps may not reach: keep it out of the workspace", o, h)
			}
		}
	}
	out := expand("/", hidden, full)
	for _, o := range open {
		out = append(out, expand(o, hidden, full)...)
	}
	for _, r := range ro {
		out = append(out, expand(r, hidden, readOnly)...)
	}
	if len(hidden) > 0 {
		guarded = append(slices.Clone(hidden), ancestors("/", hidden)...)
	}
	return out, guarded, nil
}

// expand allows access beneath root except the hidden paths under it:
// root itself when it holds none, else the entries of each folder on the
// way to them (folder rules), but not the hidden paths themselves.
func expand(root string, hidden []string, acc access) []rule {
	var inner []string
	for _, h := range hidden {
		if h != root && within(h, root) {
			inner = append(inner, h)
		}
	}
	if len(inner) == 0 {
		if _, err := os.Lstat(root); root != "/" && errors.Is(err, fs.ErrNotExist) {
			return nil // nothing there to allow yet
		}
		return []rule{{path: root, access: acc}}
	}
	dirs := ancestors(root, inner)
	var out []rule
	for _, dir := range dirs {
		out = append(out, rule{path: dir, access: acc, folder: true, skip: append(slices.Clone(inner), dirs...)})
	}
	return out
}

// resolve makes paths absolute and follows their links (a path that does
// not exist yet is kept as written, cleaned).
func resolve(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if abs == "/" {
			return nil, errors.New("sandbox: cannot hide or open the whole file system (/)")
		}
		if !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	return out, nil
}

// ancestors are the folders from root down to the hidden paths (not
// the paths themselves), each once.
func ancestors(root string, hidden []string) []string {
	out := []string{root}
	for _, h := range hidden {
		for d := filepath.Dir(h); d != root; d = filepath.Dir(d) {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Overlaps reports whether path is one of the hidden paths, beneath one
// or holds one: a confined process could not use it as a folder of its
// own (a HOME where it makes ~/.npm).
func Overlaps(path string, hidden []string) bool {
	ps, err := resolve([]string{path})
	if err != nil || len(ps) == 0 {
		return err != nil // "/" holds everything
	}
	hs, err := resolve(hidden)
	if err != nil {
		return true
	}
	for _, h := range hs {
		if within(ps[0], h) || within(h, ps[0]) {
			return true
		}
	}
	return false
}

// Allows reports whether a process confined by p could reach path, its
// links followed: outside every hidden path, or inside an Open or
// ReadOnly one. The server checks with it what it reads for a step (the
// build output a step names), so a step cannot make it read, for a
// public artifact, what the step itself may not.
func (p Policy) Allows(path string) bool {
	ps, err := resolve([]string{path})
	if err != nil || len(ps) == 0 {
		return false
	}
	if inside, _ := resolve(append(slices.Clone(p.Open), p.ReadOnly...)); slices.ContainsFunc(inside, func(o string) bool { return within(ps[0], o) }) {
		return true
	}
	hidden, err := resolve(p.Hidden)
	return err == nil && !slices.ContainsFunc(hidden, func(h string) bool { return within(ps[0], h) })
}

// outermost drops the paths beneath another of paths.
func outermost(paths []string) []string {
	return slices.DeleteFunc(slices.Clone(paths), func(p string) bool {
		return slices.ContainsFunc(paths, func(q string) bool { return q != p && within(p, q) })
	})
}

// within reports whether path is dir or beneath it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
