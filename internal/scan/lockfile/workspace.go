package lockfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Workspace is set on a lockfile read for one package of an npm, pnpm or
// yarn workspace: the folder checked has no lockfile of its own, and its
// workspace root's is read restricted to that package (its dependencies
// and, through workspace:, file: and link: references, those of the
// workspace packages it depends on).
type Workspace struct {
	Root    string `json:"root"`    // the workspace root: the folder holding the lockfile
	Dir     string `json:"dir"`     // the package's folder relative to Root, slash-separated ("apps/web")
	Package string `json:"package"` // its package.json name
}

// wsScope is what a parser needs to read a workspace root's lockfile for
// one of its packages.
type wsScope struct {
	root string    // the workspace root
	top  string    // its Boundary: no file is read outside it
	dir  string    // the package's folder relative to root ("apps/web")
	app  *Manifest // its package.json
	// globs are the root's workspace patterns; packages, their name ->
	// folder, is filled on first use (yarn v1 records no workspace)
	globs    []string
	packages map[string]string
	// outside are the workspace packages' folders whose package.json was
	// not read, leading outside top, each with the error naming it. yarn
	// reads a workspace package's dependencies in its package.json, so
	// its parser makes each a problem (outsideProblems); npm's and pnpm's
	// lockfiles record them, and there such a file only labels a package
	outside map[string]error
}

// manifest reads the package.json of the workspace package in folder dir
// (relative to the root); nil when there is none. One leading outside
// the boundary is none too, and is noted in s.outside.
func (s *wsScope) manifest(dir string) *Manifest {
	if dir == s.dir {
		return s.app
	}
	if outsideRoot(dir) { // a lockfile's word for a folder: never read outside
		return nil
	}
	m, err := readManifest(s.top, filepath.Join(s.root, filepath.FromSlash(dir), "package.json"))
	s.noteOutside(dir, err)
	return m
}

// noteOutside notes in s.outside the folder dir when err says its
// package.json leads outside the boundary.
func (s *wsScope) noteOutside(dir string, err error) {
	if !errors.Is(err, ErrOutside) {
		return
	}
	if s.outside == nil {
		s.outside = map[string]error{}
	}
	s.outside[dir] = err
}

// outsideProblems makes each workspace package of s.outside a problem of
// l: what it depends on, and for yarn v1 even its name, cannot be told,
// so what it installs would go unchecked.
func (s *wsScope) outsideProblems(l *Lockfile) {
	for _, dir := range slices.Sorted(maps.Keys(s.outside)) {
		l.problem(dir, 0, "%v", s.outside[dir])
	}
}

// outsideRoot reports whether p, a path a lockfile gives relative to its
// folder, leads out of that folder: absolute, or up past it
// ("../../etc"). Such a folder is never read.
func outsideRoot(p string) bool {
	if path.IsAbs(p) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return true
	}
	c := path.Clean(filepath.ToSlash(p))
	return c == ".." || strings.HasPrefix(c, "../")
}

// label is how a workspace package shows in a dependency path: its
// package.json name and version, else its folder.
func (s *wsScope) label(dir string) string {
	if m := s.manifest(dir); m != nil {
		return workspaceLabel(m.Name, m.Version, dir)
	}
	return dir
}

// workspaceLabel is "name@version" of the workspace package in folder
// dir, "name" without a version, dir without a name.
func workspaceLabel(name, version, dir string) string {
	switch {
	case name == "":
		return dir
	case version == "":
		return name
	}
	return name + "@" + version
}

// localLabel is how a local package, a folder or tarball of the
// project's own that a file:, link: or portal: reference installs,
// shows in a dependency path: its name and that reference, with the
// path from the lockfile's folder ("minimist (file:vendor/minimist)"),
// in every lockfile format; the reference alone without a name. Its
// version is no registry package's, so it is not written as one.
func localLabel(name, proto, dir string) string {
	ref := proto + ":" + path.Clean(filepath.ToSlash(dir))
	if name == "" {
		return ref
	}
	return name + " (" + ref + ")"
}

// packageDir is the folder of the workspace package called name, "" when
// no workspace package has that name.
func (s *wsScope) packageDir(name string) string {
	if s.packages == nil {
		var outside map[string]error
		s.packages, outside = workspacePackages(s.top, s.root, s.globs)
		for dir, err := range outside {
			s.noteOutside(dir, err)
		}
	}
	return s.packages[name]
}

// workspaceGlobs are the workspace patterns of the folder root: the
// packages of its pnpm-workspace.yaml, else the workspaces of its
// package.json (a list, or yarn's {"packages": [...]}). ok is false when
// root is no workspace root. err is set, with ok false, when one of the
// files is a symbolic link leading outside the Boundary (ErrOutside): it
// is not read, and the workspace cannot be told.
func workspaceGlobs(root string) (globs []string, ok bool, err error) {
	top := Boundary(root)
	data, err := readFile(top, filepath.Join(root, "pnpm-workspace.yaml"))
	if err == nil {
		var ws struct {
			Packages []string `yaml:"packages"`
		}
		if yaml.Unmarshal(data, &ws) != nil {
			return nil, false, nil
		}
		return ws.Packages, true, nil
	}
	if errors.Is(err, ErrOutside) {
		return nil, false, err
	}
	data, err = readFile(top, filepath.Join(root, "package.json"))
	if err != nil {
		return nil, false, outsideOnly(err)
	}
	var pkg struct {
		Workspaces json.RawMessage `json:"workspaces"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return nil, false, nil
	}
	globs = manifestGlobs(pkg.Workspaces)
	return globs, len(globs) > 0, nil
}

// outsideOnly is err when it is ErrOutside, else nil.
func outsideOnly(err error) error {
	if errors.Is(err, ErrOutside) {
		return err
	}
	return nil
}

// manifestGlobs are the workspace patterns of a package.json's
// workspaces: a list, or yarn's {"packages": [...]}; nil when there are
// none or they are malformed.
func manifestGlobs(raw json.RawMessage) []string {
	var globs []string
	if len(raw) == 0 {
		return nil
	}
	if json.Unmarshal(raw, &globs) != nil {
		var yarn struct {
			Packages []string `json:"packages"`
		}
		if json.Unmarshal(raw, &yarn) != nil {
			return nil
		}
		globs = yarn.Packages
	}
	return globs
}

// inWorkspace reports whether the folder rel (relative to the workspace
// root, slash-separated) is matched by globs: by one pattern and by no
// "!pattern". "*" matches within a folder name, "**" any number of folders.
func inWorkspace(globs []string, rel string) bool {
	in := false
	for _, g := range globs {
		neg := strings.HasPrefix(g, "!")
		if globRegexp(strings.TrimPrefix(g, "!")).MatchString(rel + "/") {
			if neg {
				return false
			}
			in = true
		}
	}
	return in
}

// globRegexp compiles a workspace pattern ("apps/*", "packages/**",
// "./libs/ui") to a regular expression over a folder written with a
// slash after each name ("apps/web/").
func globRegexp(glob string) *regexp.Regexp {
	glob = path.Clean(strings.TrimPrefix(glob, "./"))
	var b strings.Builder
	b.WriteString("^")
	for _, seg := range strings.Split(glob, "/") {
		if seg == "**" {
			b.WriteString("(?:[^/]+/)*")
			continue
		}
		for _, r := range seg {
			switch r {
			case '*':
				b.WriteString("[^/]*")
			case '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("/")
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()) // every rune is quoted or a fixed class
}

// workspacePackages finds the workspace packages below root: the folders
// globs match that hold a package.json with a name, as name -> folder.
// node_modules and hidden folders are not entered; nor is anything deeper
// than maxWorkspaceDepth, nor a folder that is a symbolic link (it may
// lead back up), though one globs match is taken for a workspace package,
// its package.json read within top. A folder whose package.json leads outside top is not
// read: it is in outside, with the error naming that package.json, for
// the caller to say so rather than drop the package unseen.
func workspacePackages(top, root string, globs []string) (pkgs map[string]string, outside map[string]error) {
	pkgs, outside = map[string]string{}, map[string]error{}
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == root || !e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil || e.Name() == "node_modules" || strings.HasPrefix(e.Name(), ".") ||
			strings.Count(rel, string(filepath.Separator)) >= maxWorkspaceDepth {
			return skipDir(e)
		}
		rel = filepath.ToSlash(rel)
		if !inWorkspace(globs, rel) {
			return nil
		}
		m, err := readManifest(top, filepath.Join(p, "package.json"))
		switch {
		case errors.Is(err, ErrOutside):
			outside[rel] = err
		case m != nil && m.Name != "" && pkgs[m.Name] == "": // the first of a name
			pkgs[m.Name] = rel
		}
		return nil
	})
	return pkgs, outside
}

// skipDir is what a walk returns to pass over the entry e: SkipDir for a
// folder, nil for a symbolic link (it is not entered anyway; SkipDir
// would end its folder's walk).
func skipDir(e fs.DirEntry) error {
	if e.IsDir() {
		return filepath.SkipDir
	}
	return nil
}

const maxWorkspaceDepth = 6

// WorkspaceRoot is the workspace root above dir (package.json workspaces,
// pnpm-workspace.yaml) that lists dir as one of its packages, and dir
// relative to it, slash-separated; ok is false when there is none. The
// search stops at the repository's top (a folder holding .git).
func WorkspaceRoot(dir string) (root, rel string, ok bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", false
	}
	walkUp(abs, func(folder string) bool {
		r, err := filepath.Rel(folder, abs)
		if globs, isRoot, _ := workspaceGlobs(folder); isRoot && err == nil && inWorkspace(globs, filepath.ToSlash(r)) {
			root, rel, ok = folder, filepath.ToSlash(r), true
		}
		return ok
	})
	return root, rel, ok
}

// jsLockfiles are the lockfiles a workspace root may hold for its
// packages.
var jsLockfiles = []string{"npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock"}

// loadWorkspace reads, for dir (which has no lockfile and whose
// package.json is m), the lockfile of the workspace root above it, when
// that root's workspaces include dir. ok is false when there is no such
// root: the folder holding the nearest lockfile above is not a workspace
// root, or dir is not one of its packages.
func loadWorkspace(ctx context.Context, dir string, m *Manifest, above string) (locks []*Lockfile, ok bool, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil || m == nil {
		return nil, false, nil
	}
	root := filepath.Dir(filepath.Join(abs, above))
	globs, isRoot, gerr := workspaceGlobs(root)
	if gerr != nil {
		return nil, true, gerr
	}
	rel, rerr := filepath.Rel(root, abs)
	if !isRoot || rerr != nil || !inWorkspace(globs, filepath.ToSlash(rel)) {
		return nil, false, nil
	}
	top := Boundary(root)
	scope := &wsScope{root: root, top: top, dir: filepath.ToSlash(rel), app: m, globs: globs}
	locks, errs, err := readEach(ctx, top, root, jsLockfiles, func(path string, data []byte) (*Lockfile, error) {
		l, err := parseScoped(path, data, scope)
		if err == nil {
			l.Workspace = &Workspace{Root: root, Dir: scope.dir, Package: m.Name}
		}
		return l, err
	})
	if err != nil {
		return locks, true, err
	}
	return locks, true, errors.Join(errs...)
}

// parseScoped reads the workspace root's lockfile at path for the package
// s.dir.
func parseScoped(path string, data []byte, s *wsScope) (*Lockfile, error) {
	switch filepath.Base(path) {
	case "package-lock.json", "npm-shrinkwrap.json":
		return parseNPM(path, data, s.app, s)
	case "pnpm-lock.yaml":
		return parsePNPM(path, data, s)
	case "yarn.lock":
		return parseYarn(path, data, s.app, s)
	}
	return nil, fmt.Errorf("%s: not a lockfile of a workspace", path)
}

// notLocked is the error of a workspace root's lockfile that has no entry
// for the package being checked: it was written before the package was
// added, and what the package manager installs for it would go unchecked.
func notLocked(path string, s *wsScope, tool string) error {
	return fmt.Errorf("%s: the workspace package %s is not in it: it is out of date (run %s in %s and commit %s)",
		path, s.dir, tool, s.root, filepath.Base(path))
}

// Source says, for a lockfile read for a workspace package, which file
// was read: "apps/web: read ../../package-lock.json, workspace package
// @acme/web". It is "" for a folder's own lockfile.
func (l *Lockfile) Source() string {
	ws := l.Workspace
	if ws == nil {
		return ""
	}
	file := l.RelPath(filepath.Join(ws.Root, filepath.FromSlash(ws.Dir)))
	name := ws.Package
	if name == "" {
		name = "(no name)"
	}
	return fmt.Sprintf("%s: read %s, workspace package %s", ws.Dir, file, name)
}

// RelPath is the lockfile's path relative to dir, slash-separated
// ("package-lock.json", "../../pnpm-lock.yaml"); its path as it is when
// it cannot be made relative.
func (l *Lockfile) RelPath(dir string) string {
	abs, err1 := filepath.Abs(dir)
	file, err2 := filepath.Abs(l.Path)
	if err1 != nil || err2 != nil {
		return l.Path
	}
	rel, err := filepath.Rel(abs, file)
	if err != nil {
		return l.Path
	}
	return filepath.ToSlash(rel)
}

// InstallBase is the folder the lockfile's install locations (Package.Dir,
// node_modules) are relative to, and the folder of the package checked
// relative to it ("" for a folder's own lockfile): a workspace package's
// dependencies are installed in the root's node_modules or its own.
func (l *Lockfile) InstallBase(dir string) (base, app string) {
	if l.Workspace == nil {
		return dir, ""
	}
	return l.Workspace.Root, l.Workspace.Dir
}
