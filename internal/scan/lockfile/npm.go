package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// npmLock is package-lock.json / npm-shrinkwrap.json, all versions.
type npmLock struct {
	LockfileVersion int                        `json:"lockfileVersion"`
	Packages        map[string]json.RawMessage `json:"packages"`     // v2, v3
	Dependencies    map[string]json.RawMessage `json:"dependencies"` // v1, v2
}

type npmEntry struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Resolved             string            `json:"resolved"`
	Integrity            string            `json:"integrity"`
	License              any               `json:"license"`
	Dev                  bool              `json:"dev"`
	Optional             bool              `json:"optional"`
	DevOptional          bool              `json:"devOptional"`
	Link                 bool              `json:"link"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	Workspaces           json.RawMessage   `json:"workspaces"` // the project's (key "")
}

// npmV1Entry is a v1 "dependencies" entry: nested, with "requires".
type npmV1Entry struct {
	Version      string                     `json:"version"`
	Resolved     string                     `json:"resolved"`
	Integrity    string                     `json:"integrity"`
	Dev          bool                       `json:"dev"`
	Optional     bool                       `json:"optional"`
	Requires     map[string]string          `json:"requires"`
	Dependencies map[string]json.RawMessage `json:"dependencies"`
}

// ParseNPM reads package-lock.json or npm-shrinkwrap.json (lockfileVersion
// 1, 2 or 3). m may be nil; it is used for v1 files to find the roots.
func ParseNPM(path string, data []byte, m *Manifest) (*Lockfile, error) {
	return parseNPM(path, data, m, nil)
}

// parseNPM reads an npm lockfile; for the workspace package ws when ws is
// not nil.
func parseNPM(path string, data []byte, m *Manifest, ws *wsScope) (*Lockfile, error) {
	var raw npmLock
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a valid npm lockfile: %w", path, jsonErr(data, err))
	}
	l := &Lockfile{Path: path}
	g := newGraph()
	idx := indexKeys(data)
	switch {
	case raw.Packages != nil:
		l.Format = fmt.Sprintf("package-lock v%d", max(raw.LockfileVersion, 2))
		if err := npmPackages(l, g, raw.Packages, idx, ws); err != nil {
			return nil, err
		}
	case ws != nil:
		return nil, fmt.Errorf("%s: a lockfile v1 records no workspace packages, so %s's cannot be told from the others: write it again with npm 7 or later (npm install)", path, ws.dir)
	case raw.Dependencies != nil || raw.LockfileVersion == 1:
		l.Format = "package-lock v1"
		npmV1(l, g, raw.Dependencies, "", idx)
		npmV1Roots(g, raw.Dependencies, m)
	default:
		return nil, fmt.Errorf("%s: neither \"packages\" nor \"dependencies\" found; is this an npm lockfile?", path)
	}
	l.Packages = g.packages()
	l.sortPackages()
	return l, nil
}

// npmPackages reads the "packages" of a v2 or v3 lockfile into g, rooted
// at the project, or at the workspace package ws when ws is not nil.
func npmPackages(l *Lockfile, g *graph, pkgs map[string]json.RawMessage, idx keyLines, ws *wsScope) error {
	entries := map[string]*npmEntry{}
	for _, key := range sortedKeys(pkgs) {
		var e npmEntry
		if err := json.Unmarshal(pkgs[key], &e); err != nil {
			line, msg := entryErr(idx[key], pkgs[key], err)
			l.problem(key, line, "malformed entry: %s", msg)
			entries[key] = nil // there, though unread: not also "not locked"
			continue
		}
		entries[key] = &e
		name := e.Name
		if name == "" || strings.HasPrefix(key, "node_modules/") {
			if n := npmNameFromKey(key); n != "" {
				name = n
			}
		}
		if aliased := e.Name != "" && e.Name != name && strings.HasPrefix(key, "node_modules/"); aliased {
			name = e.Name // "node_modules/alias" installed from "npm:real@1"
		}
		n := g.add(key, Package{Name: name, Version: e.Version, Ecosystem: NPM, Dev: e.Dev || e.DevOptional && !e.Optional,
			Optional: e.Optional, License: licenseString(e.License), Resolved: e.Resolved, Integrity: e.Integrity,
			Line: idx[key], Dir: key})
		if key == "" || e.Link || !npmInstalled(key) || strings.HasPrefix(e.Resolved, "file:") {
			// the project, a workspace folder, a symlink to one, or a
			// tarball of the project's own (file:): no registry package
			n.hide = true
		}
		if e.Version == "" && !n.hide {
			l.problem(key, n.pkg.Line, "no version")
		}
	}
	if ws != nil {
		npmLabels(g, entries, ws)
	}
	importer := npmImporters(entries, ws)
	for key, e := range entries {
		n := g.nodes[key]
		if e == nil {
			continue
		}
		if e.Link {
			if t := e.Resolved; t != "" {
				n.deps = append(n.deps, t)
			}
			continue
		}
		at := edgeFrom{key, n.pkg.Line}
		n.deps = append(n.deps, npmEdges(l, entries, at, e.Dependencies, true)...)
		n.deps = append(n.deps, npmEdges(l, entries, at, e.OptionalDependencies, false)...)
		n.deps = append(n.deps, npmEdges(l, entries, at, e.PeerDependencies, false)...)
		if importer[key] {
			g.dev = append(g.dev, npmEdges(l, entries, at, e.DevDependencies, true)...)
		}
		sort.Strings(n.deps)
	}
	root := ""
	if ws != nil {
		root, g.scoped = ws.dir, true
		if _, ok := entries[root]; !ok {
			return notLocked(l.Path, ws, "npm install")
		}
	}
	if _, ok := entries[root]; ok {
		g.prod = append(g.prod, sortedKeys(importer)...)
		sort.Strings(g.dev)
	}
	return nil
}

// npmLabels labels the hidden nodes of g that paths show, read for the
// workspace package ws: the other workspace packages (the folders the
// root's workspaces patterns match) as name@version, and the folders and
// tarballs of the project's own a file: reference installs as local
// packages (localLabel). npm records no name for such a folder: the
// link to it says which.
func npmLabels(g *graph, entries map[string]*npmEntry, ws *wsScope) {
	linked := map[string]string{} // folder -> the name of the first link to it
	for _, key := range sortedKeys(entries) {
		if e := entries[key]; e != nil && e.Link && linked[e.Resolved] == "" {
			linked[e.Resolved] = npmNameFromKey(key)
		}
	}
	for key, e := range entries {
		n := g.nodes[key]
		if e == nil || !n.hide || key == "" || key == ws.dir || e.Link {
			continue
		}
		switch name := n.pkg.Name; {
		case npmInstalled(key): // a tarball, resolved "file:…"
			n.label = localLabel(name, "file", strings.TrimPrefix(e.Resolved, "file:"))
		case inWorkspace(ws.globs, key):
			n.label = workspaceLabel(name, e.Version, key)
		default:
			if name == "" {
				name = linked[key]
			}
			n.label = localLabel(name, "file", key)
		}
	}
}

// npmImporters are the entries the lockfile is rooted at: the workspace
// package ws when it is not nil; else the project and, at a workspace's
// root, each of its workspace packages (the folders its workspaces
// patterns match), as pnpm's importers are: nothing in the lockfile
// leads to them, and what each needs is what the project needs.
func npmImporters(entries map[string]*npmEntry, ws *wsScope) map[string]bool {
	if ws != nil {
		return map[string]bool{ws.dir: true}
	}
	out := map[string]bool{"": true}
	if e := entries[""]; e != nil {
		globs := manifestGlobs(e.Workspaces)
		for key, w := range entries {
			if key != "" && w != nil && !w.Link && !npmInstalled(key) && inWorkspace(globs, key) {
				out[key] = true
			}
		}
	}
	return out
}

// npmInstalled reports whether the location key is under a node_modules
// folder (an installed package), not a folder of the project's own.
func npmInstalled(key string) bool {
	return strings.HasPrefix(key, "node_modules/") || strings.Contains(key, "/node_modules/")
}

// npmEdges resolves the dependencies deps of the entry at key. A
// required one the lockfile does not lock is a problem: the lockfile is
// out of date, and what npm installs for it would go unchecked (optional
// and peer dependencies may be absent).
func npmEdges(l *Lockfile, entries map[string]*npmEntry, from edgeFrom, deps map[string]string, required bool) []string {
	var out []string
	for _, name := range sortedKeys(deps) {
		if t := npmResolve(entries, from.key, name); t != "" {
			out = append(out, t)
		} else if required {
			who := ""
			if from.key == "" {
				who = "the project "
			}
			l.problem(from.key, from.line, "%sdepends on %s@%s, which the lockfile does not lock: it is out of date (run npm install and commit %s)",
				who, name, deps[name], l.Path)
		}
	}
	return out
}

// edgeFrom is the entry whose dependencies npmEdges resolves.
type edgeFrom struct {
	key  string
	line int
}

// npmResolve finds the node_modules folder Node would load name from when
// required by the package at location from.
func npmResolve[T any](entries map[string]T, from, name string) string {
	for loc := from; ; loc = npmParent(loc) {
		cand := "node_modules/" + name
		if loc != "" {
			cand = loc + "/node_modules/" + name
		}
		if _, ok := entries[cand]; ok {
			return cand
		}
		if loc == "" {
			return ""
		}
	}
}

// npmParent strips the last "node_modules/<name>" from a location.
func npmParent(loc string) string {
	i := strings.LastIndex(loc, "node_modules/")
	if i <= 0 {
		return ""
	}
	return strings.TrimSuffix(loc[:i], "/")
}

func npmNameFromKey(key string) string {
	i := strings.LastIndex(key, "node_modules/")
	if i < 0 {
		return ""
	}
	return key[i+len("node_modules/"):]
}

func npmV1(l *Lockfile, g *graph, deps map[string]json.RawMessage, parent string, idx keyLines) {
	for _, name := range sortedKeys(deps) {
		loc := "node_modules/" + name
		if parent != "" {
			loc = parent + "/" + loc
		}
		var e npmV1Entry
		if err := json.Unmarshal(deps[name], &e); err != nil {
			line, msg := entryErr(idx[name], deps[name], err)
			l.problem(name, line, "malformed entry: %s", msg)
			continue
		}
		realName, version := name, e.Version
		if rest, ok := strings.CutPrefix(e.Version, "npm:"); ok { // alias
			if n, v, ok := splitSpec(rest); ok {
				realName, version = n, v
			}
		}
		n := g.add(loc, Package{Name: realName, Version: version, Ecosystem: NPM, Dev: e.Dev, Optional: e.Optional,
			Resolved: e.Resolved, Integrity: e.Integrity, Line: idx[name], Dir: loc})
		if e.Version == "" {
			l.problem(loc, n.pkg.Line, "no version")
		}
		// a folder or tarball of the project's own: no registry package
		n.hide = strings.HasPrefix(e.Version, "file:")
		npmV1(l, g, e.Dependencies, loc, idx)
		for req := range e.Requires {
			n.deps = append(n.deps, "?"+req) // resolved once every location exists
		}
	}
	if parent == "" {
		for _, n := range g.nodes {
			for i, d := range n.deps {
				if name, ok := strings.CutPrefix(d, "?"); ok {
					n.deps[i] = npmResolve(g.nodes, n.id, name)
				}
			}
			sort.Strings(n.deps)
		}
	}
}

func npmV1Roots(g *graph, deps map[string]json.RawMessage, m *Manifest) {
	if m != nil {
		for _, name := range sortedKeys(m.Deps) {
			g.prod = append(g.prod, "node_modules/"+name)
		}
		for _, name := range sortedKeys(m.Optional) {
			g.prod = append(g.prod, "node_modules/"+name)
		}
		for _, name := range sortedKeys(m.DevDeps) {
			g.dev = append(g.dev, "node_modules/"+name)
		}
		return
	}
	// Without package.json every top-level entry is a root; its own flag
	// says whether it is for development.
	for _, name := range sortedKeys(deps) {
		if n, ok := g.nodes["node_modules/"+name]; ok && !n.pkg.Dev {
			g.prod = append(g.prod, n.id)
		} else if ok {
			g.dev = append(g.dev, n.id)
		}
	}
}

func licenseString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if t, ok := x["type"].(string); ok {
			return t
		}
	}
	return ""
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// entryErr says what is wrong with the entry raw, which starts on line,
// in the lockfile's terms: the field, its line, and the JSON types, not
// Go's ("cannot unmarshal number into Go struct field npmEntry.version").
func entryErr(line int, raw []byte, err error) (int, string) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return line, err.Error()
	}
	if off := int(te.Offset); off <= len(raw) {
		line += bytes.Count(raw[:off], []byte{'\n'})
	}
	want := map[reflect.Kind]string{reflect.String: "a string", reflect.Map: "an object", reflect.Bool: "true or false",
		reflect.Slice: "a list", reflect.Struct: "an object"}[te.Type.Kind()]
	if want == "" {
		want = te.Type.String()
	}
	return line, fmt.Sprintf("%q is a JSON %s, want %s (run npm install to write the lockfile again)", te.Field, te.Value, want)
}

// jsonErr adds the line and column to a JSON syntax error.
func jsonErr(data []byte, err error) error {
	var off int64
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	default:
		return err
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1 + strings.Count(string(data[:off]), "\n")
	col := int(off) - strings.LastIndex(string(data[:off]), "\n")
	return fmt.Errorf("line %d column %d: %w", line, col, err)
}
