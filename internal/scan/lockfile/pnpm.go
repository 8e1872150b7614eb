package lockfile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

type pnpmLock struct {
	LockfileVersion      any                     `yaml:"lockfileVersion"`
	Importers            map[string]pnpmImporter `yaml:"importers"`
	Dependencies         map[string]any          `yaml:"dependencies"`
	DevDependencies      map[string]any          `yaml:"devDependencies"`
	OptionalDependencies map[string]any          `yaml:"optionalDependencies"`
	Packages             map[string]yaml.Node    `yaml:"packages"`
	Snapshots            map[string]yaml.Node    `yaml:"snapshots"`
}

type pnpmImporter struct {
	Dependencies         map[string]any `yaml:"dependencies"`
	DevDependencies      map[string]any `yaml:"devDependencies"`
	OptionalDependencies map[string]any `yaml:"optionalDependencies"`
}

type pnpmPkg struct {
	Resolution           map[string]any    `yaml:"resolution"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
	Dev                  bool              `yaml:"dev"`
	Optional             bool              `yaml:"optional"`
	Name                 string            `yaml:"name"`
	Version              string            `yaml:"version"`
}

// ParsePNPM reads pnpm-lock.yaml, lockfile versions 5.x, 6.0, 7.0, 8.0 and 9.0.
func ParsePNPM(path string, data []byte) (*Lockfile, error) {
	return parsePNPM(path, data, nil)
}

// parsePNPM reads pnpm-lock.yaml; for the workspace package ws (one of
// its importers) when ws is not nil.
func parsePNPM(path string, data []byte, ws *wsScope) (*Lockfile, error) {
	var raw pnpmLock
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a valid pnpm lockfile: %w", path, err)
	}
	if raw.LockfileVersion == nil {
		return nil, fmt.Errorf("%s: no lockfileVersion; is this a pnpm lockfile?", path)
	}
	ver := fmt.Sprint(raw.LockfileVersion)
	l := &Lockfile{Path: path, Format: "pnpm-lock " + ver}
	v5 := strings.HasPrefix(ver, "5")
	g := newGraph()
	meta := map[string]pnpmPkg{}
	for _, key := range sortedKeys(raw.Packages) {
		n := raw.Packages[key]
		var p pnpmPkg
		if err := n.Decode(&p); err != nil {
			l.problem(key, n.Line, "malformed entry: %v", err)
			continue
		}
		meta[pnpmNodeID(key, p.Name, v5)] = p
	}
	nodes := raw.Packages
	if raw.Snapshots != nil {
		nodes = raw.Snapshots
	}
	deps := map[string]pnpmPkg{}
	for _, key := range sortedKeys(nodes) {
		yn := nodes[key]
		var p pnpmPkg
		if err := yn.Decode(&p); err != nil {
			l.problem(key, yn.Line, "malformed entry: %v", err)
			continue
		}
		id := pnpmNodeID(key, p.Name, v5)
		name, version := pnpmNameVersion(id)
		if p.Name != "" {
			name, version = p.Name, p.Version
		}
		m := meta[id]
		if bare := pnpmStripPeers(id); raw.Snapshots != nil {
			m = meta[bare]
		}
		if pnpmLocal(id) && name != "" {
			pnpmLocalNode(l, g, pnpmNode{key, id, name, version, yn.Line}, m, raw.Importers, ws)
			deps[id] = p
			continue
		}
		if name == "" || version == "" {
			l.problem(key, yn.Line, "cannot tell the package name and version from the key")
			continue
		}
		integrity, _ := m.Resolution["integrity"].(string)
		tarball, _ := m.Resolution["tarball"].(string)
		g.add(id, Package{Name: name, Version: version, Ecosystem: NPM, Dev: m.Dev || p.Dev,
			Optional: m.Optional || p.Optional, Integrity: integrity, Resolved: tarball, Line: yn.Line})
		deps[id] = p
	}
	for id, p := range deps {
		n := g.nodes[id]
		for _, set := range []map[string]string{p.Dependencies, p.OptionalDependencies} {
			for name, ref := range set {
				if t := pnpmRef(name, ref, v5); t != "" {
					n.deps = append(n.deps, t)
				}
			}
		}
		sort.Strings(n.deps)
	}
	if ws != nil {
		if err := pnpmImporterRoots(l, g, raw.Importers, ws, v5); err != nil {
			return nil, err
		}
		l.Packages = g.packages()
		l.sortPackages()
		return l, nil
	}
	importers := raw.Importers
	if importers == nil {
		importers = map[string]pnpmImporter{".": {raw.Dependencies, raw.DevDependencies, raw.OptionalDependencies}}
	}
	for _, dir := range sortedKeys(importers) {
		imp := importers[dir]
		g.prod = append(g.prod, pnpmRoots(imp.Dependencies, v5)...)
		g.prod = append(g.prod, pnpmRoots(imp.OptionalDependencies, v5)...)
		g.dev = append(g.dev, pnpmRoots(imp.DevDependencies, v5)...)
	}
	l.Packages = g.packages()
	l.sortPackages()
	return l, nil
}

// pnpmImporterRoots roots g at the importer of the workspace package ws:
// its dependencies are production roots, its devDependencies development
// ones, and a link: to another importer (a workspace: dependency) stands
// for that importer's dependencies and optionalDependencies.
func pnpmImporterRoots(l *Lockfile, g *graph, importers map[string]pnpmImporter, ws *wsScope, v5 bool) error {
	app, ok := importers[ws.dir]
	if !ok {
		return notLocked(l.Path, ws, "pnpm install")
	}
	id := func(dir string) string { return "importer:" + dir }
	for _, dir := range sortedKeys(importers) {
		imp := importers[dir]
		n := g.add(id(dir), Package{Name: dir})
		n.hide = true
		if dir != ws.dir {
			n.label = ws.label(dir)
		}
		for _, set := range []map[string]any{imp.Dependencies, imp.OptionalDependencies} {
			n.deps = append(n.deps, pnpmRoots(set, v5)...)
			n.deps = append(n.deps, pnpmLinks(set, dir, importers, id)...)
		}
	}
	g.prod, g.scoped = []string{id(ws.dir)}, true
	g.dev = append(pnpmRoots(app.DevDependencies, v5), pnpmLinks(app.DevDependencies, ws.dir, importers, id)...)
	return nil
}

// pnpmLinks are the importers that the link: references in m (of the
// importer in folder dir) point to.
func pnpmLinks(m map[string]any, dir string, importers map[string]pnpmImporter, id func(string) string) []string {
	var out []string
	for _, name := range sortedKeys(m) {
		target, ok := strings.CutPrefix(pnpmVersion(m[name]), "link:")
		if !ok {
			continue
		}
		if to := path.Join(dir, target); hasImporter(importers, to) {
			out = append(out, id(to))
		}
	}
	return out
}

func hasImporter(importers map[string]pnpmImporter, dir string) bool {
	_, ok := importers[dir]
	return ok
}

// pnpmVersion is the version of an importer's dependency: the value
// itself (lockfile 5.x) or its "version".
func pnpmVersion(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["version"].(string)
		return s
	}
	return ""
}

func pnpmRoots(m map[string]any, v5 bool) []string {
	var out []string
	for _, name := range sortedKeys(m) {
		if t := pnpmRef(name, pnpmVersion(m[name]), v5); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// pnpmRef turns a dependency reference into a node id.
func pnpmRef(name, ref string, v5 bool) string {
	switch {
	case ref == "" || strings.HasPrefix(ref, "link:"):
		return ""
	case strings.HasPrefix(ref, "file:"):
		return name + "@" + ref // as pnpmNodeID names the package
	case strings.HasPrefix(ref, "/"):
		return pnpmID(ref, v5)
	case v5:
		return name + "@" + ref
	case strings.LastIndex(pnpmStripPeers(ref), "@") > 0:
		return ref // an alias: "string-width@4.2.3"
	}
	return name + "@" + ref
}

// pnpmNode is a package entry of the lockfile: its key, node id, name,
// version as the key or entry tells them, and line.
type pnpmNode struct {
	key, id, name, version string
	line                   int
}

// pnpmLocalNode adds to g the package e from a file: reference, a folder
// or tarball of the project's own, whose packages entry is m: traversed,
// not reported, as a workspace is. Lockfile 6 records its name and
// version in the entry. Read for the workspace package ws, paths show
// it as a local package, or as the workspace package it is (an
// importer's folder: lockfile 6's file:packages/ui). A folder outside
// the lockfile's is a problem: pnpm locks what it holds, which the gates
// do not check.
func pnpmLocalNode(l *Lockfile, g *graph, e pnpmNode, m pnpmPkg, importers map[string]pnpmImporter, ws *wsScope) {
	version := e.version
	if m.Version != "" {
		version = m.Version
	} else if strings.HasPrefix(version, "file:") {
		version = ""
	}
	n := g.add(e.id, Package{Name: e.name, Version: version, Ecosystem: NPM, Line: e.line})
	n.hide = true
	ref := pnpmLocalRef(e.id)
	dir, _ := m.Resolution["directory"].(string)
	if out := pnpmOutside(ref, dir); out != "" {
		l.problem(e.key, e.line, "its folder %s is outside the lockfile's folder, which the gates check: not read (keep a package of the project's own inside it)", out)
	}
	if ws == nil {
		return
	}
	if dir == "" {
		dir = ref
	}
	if dir = path.Clean(dir); hasImporter(importers, dir) {
		n.label = ws.label(dir)
	} else {
		n.label = localLabel(e.name, "file", ref)
	}
}

// pnpmLocalRef is the folder or tarball of the local package id
// ("minimist@file:vendor/minimist"), from the lockfile's folder.
func pnpmLocalRef(id string) string {
	_, ref, _ := pnpmSplit(pnpmStripPeers(id))
	return strings.TrimPrefix(ref, "file:")
}

// pnpmOutside is the folder or tarball ref of a local package, or its
// resolution's directory dir, when either leads out of the lockfile's
// folder ("../../etc"); "" when both are inside it.
func pnpmOutside(ref, dir string) string {
	for _, p := range []string{ref, dir} {
		if outsideRoot(p) {
			return p
		}
	}
	return ""
}

// pnpmNodeID is the node id of the package at key, whose entry names it
// name: pnpmID's, but a file: package's is always name@file:…, lockfile 6
// keying it by its reference alone ("file:vendor/a", 9 "a@file:vendor/a").
func pnpmNodeID(key, name string, v5 bool) string {
	if k := strings.TrimPrefix(key, "/"); strings.HasPrefix(k, "file:") && name != "" {
		return name + "@" + k
	}
	return pnpmID(key, v5)
}

// pnpmLocal reports whether the node id is a package from a file:
// reference, a folder or tarball of the project's own: no registry
// package, though lockfile 6 records a version.
func pnpmLocal(id string) bool {
	_, ref, ok := pnpmSplit(id)
	return ok && strings.HasPrefix(ref, "file:")
}

// pnpmSplit cuts the node id at the '@' after its name (a scope's own
// '@' aside): "@acme/ui", "1.0.0(react@18.2.0)"; ok is false without one.
func pnpmSplit(id string) (name, rest string, ok bool) {
	i := strings.IndexByte(id[min(1, len(id)):], '@') + 1
	if i <= 0 {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}

// pnpmID normalises a package key: "/name@1.0.0" (v6), "/name/1.0.0" (v5)
// and "name@1.0.0" (v9) all become "name@1.0.0" plus any peer suffix.
func pnpmID(key string, v5 bool) string {
	key = strings.TrimPrefix(key, "/")
	if !v5 {
		return key
	}
	i := strings.LastIndex(key, "/")
	if i <= 0 {
		return key
	}
	return key[:i] + "@" + key[i+1:]
}

func pnpmStripPeers(id string) string {
	if i := strings.Index(id, "("); i > 0 {
		return id[:i]
	}
	return id
}

func pnpmNameVersion(id string) (string, string) {
	name, version, ok := pnpmSplit(pnpmStripPeers(id))
	if !ok {
		return "", ""
	}
	if i := strings.Index(version, "_"); i > 0 { // v5 peer suffix
		version = version[:i]
	}
	return name, version
}
