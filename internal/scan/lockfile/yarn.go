package lockfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yarnEntry is one resolved package in either yarn format.
type yarnEntry struct {
	specs     []string // "name@range" keys that resolve to it
	version   string
	resolved  string            // v1 "resolved", berry "resolution"
	integrity string            // v1 "integrity", berry "checksum"
	deps      map[string]string // name -> range
	line      int
}

// ParseYarn reads yarn.lock in the classic v1 format or the YAML format of
// yarn berry (2+). m may be nil; it tells production roots from
// development roots.
func ParseYarn(path string, data []byte, m *Manifest) (*Lockfile, error) {
	return parseYarn(path, data, m, nil)
}

// parseYarn reads yarn.lock; for the workspace package ws, whose
// package.json is m, when ws is not nil.
func parseYarn(path string, data []byte, m *Manifest, ws *wsScope) (*Lockfile, error) {
	l := &Lockfile{Path: path}
	var entries []yarnEntry
	var err error
	if bytes.Contains(data, []byte("\n__metadata:")) || bytes.HasPrefix(data, []byte("__metadata:")) {
		l.Format = "yarn berry"
		entries, err = yarnBerry(l, data)
	} else {
		l.Format = "yarn v1"
		entries = yarnV1(l, data)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && len(bytes.TrimSpace(data)) > 0 && !bytes.Contains(data, []byte("yarn lockfile")) {
		return nil, fmt.Errorf("%s: no entries found; is this a yarn lockfile?", path)
	}
	yarnGraph(l, entries, m, ws)
	return l, nil
}

func yarnGraph(l *Lockfile, entries []yarnEntry, m *Manifest, ws *wsScope) {
	g := newGraph()
	bySpec := map[string]string{}
	var workspaces []string
	for _, e := range entries {
		name := yarnName(e.specs[0])
		if e.resolved != "" && !strings.Contains(e.resolved, "://") {
			name = yarnName(e.resolved)
		}
		id := name + "@" + e.version
		// a workspace; its entry's first key may be another range it
		// satisfies ("@acme/ui@npm:*, @acme/ui@workspace:packages/ui")
		workspace := strings.Contains(e.specs[0], "@workspace:") || strings.Contains(e.resolved, "@workspace:")
		local := !workspace && yarnLocal(e)
		switch {
		case workspace:
			id = e.specs[0]
			if strings.Contains(e.resolved, "@workspace:") {
				id = e.resolved
			}
			workspaces = append(workspaces, id)
		case local:
			id = e.specs[0] // not name@version: a registry package may have the same
		}
		n := g.add(id, Package{Name: name, Version: e.version, Ecosystem: NPM, Resolved: e.resolved, Integrity: e.integrity, Line: e.line})
		n.hide = workspace || local
		if local && ws != nil {
			n.label = yarnLocalLabel(name, e, ws)
		}
		for _, s := range e.specs {
			bySpec[s] = id
		}
	}
	lookup := func(name, rng string, from yarnFrom) string {
		for _, s := range yarnKeys(name, rng, from) {
			if id, ok := bySpec[s]; ok {
				return id
			}
		}
		return ""
	}
	for _, e := range entries {
		id := bySpec[e.specs[0]]
		n := g.nodes[id]
		for dep, rng := range e.deps {
			if t := lookup(dep, rng, yarnFrom{locator: e.resolved}); t != "" && t != id {
				n.deps = append(n.deps, t)
			}
		}
		sort.Strings(n.deps)
	}
	if ws != nil {
		yarnWorkspaceRoots(l, g, ws, lookup, workspaces)
	} else {
		yarnRoots(l, g, m, lookup, workspaces)
	}
	l.Packages = g.packages()
	l.sortPackages()
}

// yarnFrom is the package whose dependency a range is: berry locks a
// file:, link: or portal: range under the range and the locator of the
// package it is relative to ("a@file:../a::locator=web%40workspace%3Aapps%2Fweb"),
// yarn v1 under the path from the root ("a@file:vendor/a" for apps/web's
// "file:../../vendor/a").
type yarnFrom struct {
	dir     string // its folder, relative to the root (v1)
	locator string // its locator (berry): "web@workspace:apps/web"
}

type yarnLookup func(name, rng string, from yarnFrom) string

// yarnKeys are the keys a lockfile may lock the dependency name@rng of
// the package from under.
func yarnKeys(name, rng string, from yarnFrom) []string {
	keys := []string{name + "@" + rng, name + "@npm:" + rng}
	proto, p, ok := strings.Cut(rng, ":")
	if !ok || !yarnLocalRange(rng) {
		return keys
	}
	if from.dir != "" && !path.IsAbs(p) {
		keys = append(keys, name+"@"+proto+":"+path.Join(from.dir, p))
	}
	if from.locator != "" {
		keys = append(keys, name+"@"+rng+"::locator="+encodeURIComponent(from.locator))
	}
	return keys
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent, which
// berry's locators in a lockfile's keys are written with.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func yarnRoots(l *Lockfile, g *graph, m *Manifest, lookup yarnLookup, workspaces []string) {
	if m == nil {
		// Without package.json: the workspace entries (berry) are the roots;
		// for v1 every package is its own root.
		g.prod = append(g.prod, workspaces...)
		if len(workspaces) == 0 {
			g.prod = append(g.prod, g.order...)
		}
		return
	}
	// the root's entry (berry) mixes its dependencies with its
	// devDependencies, so package.json decides
	dirs, names := yarnWorkspaceDirs(l, m, workspaces)
	yarnManifestRoots(g, m, yarnFrom{dir: ".", locator: yarnRootLocator(m, workspaces)}, lookup, func(name, rng string) {
		if !yarnOwnRange(names, name, rng) {
			l.problem("", 0, "the project depends on %s@%s, which the lockfile does not lock: it is out of date (run yarn install and commit %s)",
				name, rng, filepath.Base(l.Path))
		}
	})
	yarnImporters(l, g, lookup, dirs, names)
}

// yarnRootLocator is the locator of the project, a workspace's root or
// not, as berry writes it in a lockfile's keys: its workspace entry's
// ("acme@workspace:.", "root-workspace-0b6124@workspace:." when its
// package.json has no name), else one made of its name.
func yarnRootLocator(m *Manifest, workspaces []string) string {
	for _, w := range workspaces {
		if strings.HasSuffix(w, "@workspace:.") {
			return w
		}
	}
	return m.Name + "@workspace:."
}

// yarnOwnRange reports whether the dependency name@rng of a package.json
// is on a workspace package (names holds their names), which the
// lockfile need not lock: yarn v1 locks no dependency on a workspace
// package, and a workspace: range (berry) names one. Everything else a
// package.json lists is locked by yarn, link: and portal: ranges too,
// but a git range is not looked for (yarnGitRange).
func yarnOwnRange(names map[string]bool, name, rng string) bool {
	return names[name] || strings.HasPrefix(rng, "workspace:") || yarnGitRange(rng)
}

// yarnGitRange reports whether rng names a git repository ("github:u/r",
// "u/r#v1", "git+https://…", "git@host:u/r.git"). Yarn locks such a
// dependency under a key it normalises (berry rewrites the URL and pins
// the commit), which the lookup does not reproduce, and no git fixture
// could be written here (no git host is reachable): not finding one is
// not taken for a lockfile out of date, as it was not before the
// project's own dependencies were checked. Its package, when found, is
// read like any other.
func yarnGitRange(rng string) bool {
	for _, p := range []string{"git+", "git:", "git@", "github:", "gitlab:", "bitbucket:"} {
		if strings.HasPrefix(rng, p) {
			return true
		}
	}
	if strings.HasSuffix(strings.SplitN(rng, "#", 2)[0], ".git") {
		return true
	}
	// GitHub's shorthand: owner/repo, optionally #ref; no protocol
	owner, repo, ok := strings.Cut(rng, "/")
	return ok && owner != "" && repo != "" && !strings.ContainsAny(rng, ":@ ") && !strings.HasPrefix(rng, ".") && !strings.HasPrefix(rng, "~")
}

// yarnManifestRoots roots g at what the package.json m of the package
// from locks: its dependencies and optionalDependencies are production
// roots, its devDependencies development ones. A range the lockfile does
// not lock (a yarn v1 dependency on a workspace package) adds nothing,
// nor does a berry workspace: each is rooted at its own package.json.
// unlocked, when not nil, is told of each dependency or devDependency
// (not an optional one) the lockfile does not lock.
func yarnManifestRoots(g *graph, m *Manifest, from yarnFrom, lookup yarnLookup, unlocked func(name, rng string)) {
	add := func(list *[]string, deps map[string]string, required bool) {
		for _, name := range sortedKeys(deps) {
			switch t := lookup(name, deps[name], from); {
			case t != "" && !strings.Contains(t, "@workspace:"):
				*list = append(*list, t)
			case t == "" && required && unlocked != nil:
				unlocked(name, deps[name])
			}
		}
	}
	add(&g.prod, m.Deps, true)
	add(&g.prod, m.Optional, false)
	add(&g.dev, m.DevDeps, true)
}

// yarnNotLocked is the problem of the workspace package in folder who,
// whose package.json names name@rng, which the lockfile l does not lock.
func yarnNotLocked(l *Lockfile, who, name, rng string) {
	l.problem(who, 0, "the workspace package %s depends on %s@%s, which the lockfile does not lock: it is out of date (run yarn install and commit %s)",
		who, name, rng, filepath.Base(l.Path))
}

// yarnImporters roots g, the lockfile of a yarn workspace's root, at
// each of its workspace packages too (dirs and names, of
// yarnWorkspaceDirs), as pnpm's importers are, with what its
// package.json needs: yarn v1 records no workspace (what only a
// workspace package needed was reached by nothing, each such package
// its own production root), and berry's entry of one mixes its
// dependencies with its devDependencies. A berry workspace without a
// package.json, or outside the lockfile's folder (not read), is a
// production root, as its entry says. A dependency of
// a workspace package's that the lockfile does not lock, other than on a
// workspace package (yarnOwnRange), is a problem, as it is for the
// package checked alone: the lockfile is out of date.
func yarnImporters(l *Lockfile, g *graph, lookup yarnLookup, dirs map[string]string, names map[string]bool) {
	root := filepath.Dir(l.Path)
	top := Boundary(root)
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		var wm *Manifest
		if !outsideRoot(dir) { // a berry entry's folder: never read outside
			var err error
			wm, err = readManifest(top, filepath.Join(root, filepath.FromSlash(dir), "package.json"))
			if errors.Is(err, ErrOutside) { // its dependencies go unchecked: say so
				l.problem(dir, 0, "%v", err)
			}
		}
		switch {
		case wm != nil:
			yarnManifestRoots(g, wm, yarnFrom{dir: dir, locator: wm.Name + "@workspace:" + dir}, lookup, func(name, rng string) {
				if !yarnOwnRange(names, name, rng) {
					yarnNotLocked(l, dir, name, rng)
				}
			})
		case dirs[dir] != "":
			g.prod = append(g.prod, dirs[dir])
		}
	}
}

// yarnWorkspaceDirs are the workspace packages of the yarn workspace
// whose root's lockfile is l and package.json m, as folder -> its berry
// entry ("" for v1), and their names: berry's workspace entries, and for
// v1 the folders the root's workspaces patterns match beside the
// lockfile, with those whose package.json leads outside the boundary
// (unnamed: it is not read), which yarnImporters makes problems.
func yarnWorkspaceDirs(l *Lockfile, m *Manifest, workspaces []string) (dirs map[string]string, names map[string]bool) {
	dirs, names = map[string]string{}, map[string]bool{}
	for _, w := range workspaces {
		if name, dir, ok := strings.Cut(w, "@workspace:"); ok && dir != "." {
			dirs[dir], names[name] = w, true
		}
	}
	if len(workspaces) == 0 {
		if globs := manifestGlobs(m.Workspaces); len(globs) > 0 {
			root := filepath.Dir(l.Path)
			pkgs, outside := workspacePackages(Boundary(root), root, globs)
			for name, dir := range pkgs {
				dirs[dir], names[name] = "", true
			}
			for dir := range outside { // yarnImporters says it is not read
				dirs[dir] = ""
			}
		}
	}
	return dirs, names
}

// yarnWorkspaceRoots roots g at the workspace package ws. yarn v1 records
// no workspace package, and berry's entry of one mixes its dependencies
// with its devDependencies, so the package.json files decide: the
// package's dependencies and optionalDependencies are production roots,
// its devDependencies development ones, and a dependency on another
// workspace package (workspace:, or a range the lockfile does not lock)
// stands for that package's dependencies and optionalDependencies.
func yarnWorkspaceRoots(l *Lockfile, g *graph, ws *wsScope, lookup yarnLookup, workspaces []string) {
	if len(workspaces) > 0 { // berry names each workspace's folder
		ws.packages = map[string]string{}
		for _, w := range workspaces {
			if name, dir, ok := strings.Cut(w, "@workspace:"); ok {
				ws.packages[name] = dir
			}
		}
	}
	var resolve func(who string, deps map[string]string, required bool) []string
	member := func(dir string) string {
		id := "ws:" + dir
		if _, done := g.nodes[id]; done {
			return id
		}
		n := g.add(id, Package{Name: dir})
		n.hide, n.label = true, ws.label(dir)
		if m := ws.manifest(dir); m != nil {
			n.deps = append(resolve(dir, m.Deps, true), resolve(dir, m.Optional, false)...)
		}
		return id
	}
	resolve = func(who string, deps map[string]string, required bool) []string {
		from := yarnFrom{dir: who}
		if m := ws.manifest(who); m != nil {
			from.locator = m.Name + "@workspace:" + who
		}
		var out []string
		for _, name := range sortedKeys(deps) {
			// a file:, link: or portal: range is locked as a local
			// package (yarn v1 under the path from the root, berry
			// with a ::locator): a workspace package's package.json
			// says what it needs, another folder's entry
			t, dir := lookup(name, deps[name], from), ws.packageDir(name)
			switch {
			case t != "" && (!g.nodes[t].hide || dir == "" && !strings.Contains(t, "@workspace:")):
				out = append(out, t)
			case dir != "":
				out = append(out, member(dir))
			case required && !yarnGitRange(deps[name]):
				yarnNotLocked(l, who, name, deps[name])
			}
		}
		return out
	}
	app := member(ws.dir)
	g.nodes[app].label = ""
	g.prod, g.scoped = []string{app}, true
	if ws.app != nil {
		g.dev = resolve(ws.dir, ws.app.DevDeps, true)
	}
	ws.outsideProblems(l)
}

// yarnV1 parses the classic format: unindented "spec, spec:" headers,
// two-space fields and four-space dependency lines.
func yarnV1(l *Lockfile, data []byte) []yarnEntry {
	var out []yarnEntry
	var cur *yarnEntry
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	flush := func() {
		if cur == nil {
			return
		}
		if cur.version == "" {
			l.problem(strings.Join(cur.specs, ", "), cur.line, "no version")
		} else {
			out = append(out, *cur)
		}
		cur = nil
	}
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimRight(sc.Text(), " \r")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case indent == 0:
			flush()
			if !strings.HasSuffix(line, ":") {
				l.problem(line, ln, "expected \"name@range:\" at the start of an entry")
				continue
			}
			cur = &yarnEntry{specs: yarnSpecs(strings.TrimSuffix(line, ":")), line: ln}
			if len(cur.specs) == 0 {
				l.problem(line, ln, "no package spec in the entry header")
				cur = nil
			}
		case cur == nil:
		case indent == 2:
			section = yarnField(cur, trimmed)
		case indent >= 4 && (section == "dependencies" || section == "optionalDependencies"):
			k, v := yarnKV(trimmed)
			if cur.deps == nil {
				cur.deps = map[string]string{}
			}
			cur.deps[k] = v
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		l.problem("", 0, "reading: %v", err)
	}
	return out
}

func yarnField(e *yarnEntry, s string) (section string) {
	if strings.HasSuffix(s, ":") {
		return strings.TrimSuffix(s, ":")
	}
	k, v := yarnKV(s)
	switch k {
	case "version":
		e.version = v
	case "resolved":
		e.resolved = v
	case "integrity":
		e.integrity = v
	}
	return ""
}

// yarnKV splits `key "value"` or `"key" value`.
func yarnKV(s string) (string, string) {
	var k string
	if strings.HasPrefix(s, `"`) {
		if i := strings.Index(s[1:], `"`); i >= 0 {
			k, s = s[1:i+1], s[i+2:]
		}
	} else if i := strings.IndexByte(s, ' '); i >= 0 {
		k, s = s[:i], s[i:]
	} else {
		return s, ""
	}
	return k, strings.Trim(strings.TrimSpace(s), `"`)
}

func yarnSpecs(header string) []string {
	var out []string
	for _, s := range strings.Split(header, ",") {
		s = strings.Trim(strings.TrimSpace(s), `"`)
		if _, _, ok := splitSpec(s); ok {
			out = append(out, s)
		}
	}
	return out
}

type berryEntry struct {
	Version              string            `yaml:"version"`
	Resolution           string            `yaml:"resolution"`
	Checksum             string            `yaml:"checksum"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

func yarnBerry(l *Lockfile, data []byte) ([]yarnEntry, error) {
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a valid yarn lockfile: %w", l.Path, err)
	}
	var out []yarnEntry
	for _, key := range sortedKeys(raw) {
		if key == "__metadata" {
			continue
		}
		n := raw[key]
		var e berryEntry
		if err := n.Decode(&e); err != nil {
			l.problem(key, n.Line, "malformed entry: %v", err)
			continue
		}
		specs := yarnSpecs(key)
		if len(specs) == 0 || e.Version == "" {
			l.problem(key, n.Line, "no package spec or no version")
			continue
		}
		deps := e.Dependencies
		for k, v := range e.OptionalDependencies {
			if deps == nil {
				deps = map[string]string{}
			}
			deps[k] = v
		}
		out = append(out, yarnEntry{specs: specs, version: e.Version, resolved: e.Resolution, integrity: e.Checksum, deps: deps, line: n.Line - 1})
	}
	return out, nil
}

// yarnLocal reports whether the entry e is a folder or tarball of the
// project's own, from a file:, link: or portal: reference (yarn v1:
// "@acme/ui@file:packages/ui", its resolved "file:…" for a tarball;
// berry: "@acme/ui@file:../../packages/ui::locator=…" and its
// resolution): no registry package, though its version may look like
// one. Like a workspace it is traversed, not reported, as npm's lockfile
// reader does with a link to a folder.
func yarnLocal(e yarnEntry) bool {
	if yarnLocalRange(e.resolved) {
		return true
	}
	local := func(spec string) bool {
		name := yarnName(spec)
		return strings.HasPrefix(spec, name+"@") && yarnLocalRange(spec[len(name)+1:])
	}
	return slices.ContainsFunc(e.specs, local) || local(e.resolved)
}

// yarnLocalLabel is how the local package e, called name, shows in the
// paths of the workspace package ws: as the workspace package it is
// (its folder is one's), else as a local package with its folder from
// the root (localLabel). yarn v1 keys it by that folder
// ("minimist@file:vendor/minimist"), berry by the folder from the
// package that names it, its locator ("minimist@file:../../vendor/minimist::locator=%40acme%2Fweb%40workspace%3Aapps%2Fweb").
func yarnLocalLabel(name string, e yarnEntry, ws *wsScope) string {
	i := slices.IndexFunc(e.specs, func(s string) bool { return yarnLocalRange(strings.TrimPrefix(s, yarnName(s)+"@")) })
	if i < 0 {
		return workspaceLabel(name, e.version, e.specs[0])
	}
	ref, locator, _ := strings.Cut(strings.TrimPrefix(e.specs[i], yarnName(e.specs[i])+"@"), "::locator=")
	proto, dir, _ := strings.Cut(ref, ":")
	if from, err := url.PathUnescape(locator); err == nil && locator != "" {
		if _, wsDir, ok := strings.Cut(from, "@workspace:"); ok {
			dir = path.Join(wsDir, dir)
		}
	}
	if dir = path.Clean(dir); ws.packageDir(name) == dir {
		return ws.label(dir)
	}
	return localLabel(name, proto, dir)
}

// yarnLocalRange reports whether rng refers to a folder or tarball of
// the project's own.
func yarnLocalRange(rng string) bool {
	for _, p := range []string{"file:", "link:", "portal:"} {
		if strings.HasPrefix(rng, p) {
			return true
		}
	}
	return false
}

// yarnName is the real package name in a spec: "a@^1", "@s/a@npm:^1",
// or the aliased "alias@npm:real@^1" (gives "real").
func yarnName(spec string) string {
	i := strings.IndexByte(spec[min(1, len(spec)):], '@') + 1
	if i <= 0 {
		return spec
	}
	rest := spec[i+1:]
	if r, ok := strings.CutPrefix(rest, "npm:"); ok {
		if n, _, ok := splitSpec(r); ok && !strings.ContainsAny(n[:1], "^~<>=0123456789*") {
			return n
		}
	}
	return spec[:i]
}
