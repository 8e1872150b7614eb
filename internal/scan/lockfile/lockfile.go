// Package lockfile reads the dependency lockfiles of JavaScript and Go
// projects (package-lock.json v1-v3, npm-shrinkwrap.json, pnpm-lock.yaml
// v5.4-v9, yarn.lock v1 and berry, go.mod/go.sum) into one flat list of
// resolved packages, each with the shortest dependency path that pulls it in
// and whether only development dependencies need it.
//
// Parsers never panic on bad input. A file that cannot be read at all is an
// error naming the file; a single malformed entry becomes a Problem naming the
// file and the entry, and the rest of the file is still read.
package lockfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Ecosystems as OSV names them.
const (
	NPM = "npm"
	Go  = "Go"
)

// Package is one resolved package version found in a lockfile.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	Dev       bool   `json:"dev,omitempty"`      // needed only by development dependencies
	Optional  bool   `json:"optional,omitempty"` // an optional dependency
	Direct    bool   `json:"direct,omitempty"`   // listed by the project itself
	// Path is "name@version" of each package from the direct dependency
	// down to this one; a workspace package of another it goes through
	// shows as its name@version, a local package (file:, link:, portal:)
	// as "minimist (file:vendor/minimist)"
	Path      []string `json:"path,omitempty"`
	Deps      []string `json:"deps,omitempty"`     // "name@version" of every package its dependencies resolve to
	Dir       string   `json:"dir,omitempty"`      // where npm installs it, "node_modules/a/node_modules/b", when the lockfile says
	License   string   `json:"license,omitempty"`  // as declared in the lockfile, when it records one
	Resolved  string   `json:"resolved,omitempty"` // download URL, when recorded
	Integrity string   `json:"integrity,omitempty"`
	Line      int      `json:"line,omitempty"` // line of the entry in the lockfile, 0 when unknown
}

// ID is "name@version".
func (p Package) ID() string { return p.Name + "@" + p.Version }

// Lockfile is the parsed content of one lockfile.
type Lockfile struct {
	Path     string    `json:"path"`
	Format   string    `json:"format"` // e.g. "package-lock v3", "pnpm-lock 9.0", "yarn v1", "go.mod"
	Packages []Package `json:"packages"`
	Problems []Problem `json:"problems,omitempty"`
	// Workspace is set when the lockfile is a workspace root's, read for
	// one of its packages: Packages are that package's only
	Workspace *Workspace `json:"workspace,omitempty"`
}

// Problem is a malformed entry that was skipped.
type Problem struct {
	File  string `json:"file"`
	Entry string `json:"entry,omitempty"`
	Line  int    `json:"line,omitempty"`
	Msg   string `json:"message"`
}

func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	if p.Entry != "" {
		return fmt.Sprintf("%s: entry %q: %s", loc, p.Entry, p.Msg)
	}
	return loc + ": " + p.Msg
}

// Manifest holds the direct dependencies a project's package.json declares.
// Parsers use it to tell production from development roots when the lockfile
// does not record that itself (yarn, npm v1).
type Manifest struct {
	Name     string            `json:"name"`
	Version  string            `json:"version"`
	Deps     map[string]string `json:"dependencies"`
	DevDeps  map[string]string `json:"devDependencies"`
	Optional map[string]string `json:"optionalDependencies"`
	License  any               `json:"license"`
	// Workspaces are the workspace patterns of a workspace root: a list,
	// or yarn's {"packages": [...]}
	Workspaces json.RawMessage `json:"workspaces"`
}

var semverish = regexp.MustCompile(`^v?\d+(\.\d+){0,2}([-+].*)?$`)

// IsRegistryVersion reports whether v looks like a published version rather
// than a git URL, a file path or a workspace link.
func IsRegistryVersion(v string) bool { return semverish.MatchString(v) }

func (l *Lockfile) problem(entry string, line int, format string, args ...any) {
	l.Problems = append(l.Problems, Problem{File: l.Path, Entry: entry, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (l *Lockfile) sortPackages() {
	sort.SliceStable(l.Packages, func(i, j int) bool {
		a, b := l.Packages[i], l.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
}

// splitSpec splits "name@range" (name may be scoped: "@s/n@1") at the
// version separator.
func splitSpec(s string) (name, rest string, ok bool) {
	i := strings.LastIndex(s, "@")
	if i <= 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// keyLines holds, for each key of a JSON document, the 1-based line where
// it first occurs with an object as its value (an entry), else where it
// first occurs at all (an entry that is malformed). It is built in one pass
// over the data: looking each key up with a search from the top made
// reading a lockfile of thousands of entries take seconds (the search for
// one entry reads the file up to it).
type keyLines map[string]int

// indexKeys scans data, a JSON document, for its keys. Data that is not
// valid JSON gives a partial index, never a panic.
func indexKeys(data []byte) keyLines {
	idx, other := keyLines{}, keyLines{}
	line := 1
	skipSpace := func(i int) int {
		for ; i < len(data); i++ {
			switch data[i] {
			case '\n':
				line++
			case ' ', '\t', '\r':
			default:
				return i
			}
		}
		return i
	}
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			line++
			continue
		case '"':
		default:
			continue
		}
		start, at := i, line
		for i++; i < len(data) && data[i] != '"'; i++ {
			switch data[i] {
			case '\\':
				i++
			case '\n': // not valid JSON, but keep the count right
				line++
			}
		}
		if i >= len(data) {
			break
		}
		raw := data[start : i+1]
		j := skipSpace(i + 1)
		i = j - 1 // the newlines up to j are counted
		if j >= len(data) || data[j] != ':' {
			continue
		}
		j = skipSpace(j + 1)
		i = j - 1
		key := string(raw[1 : len(raw)-1])
		if bytes.IndexByte(raw, '\\') >= 0 && json.Unmarshal(raw, &key) != nil {
			continue
		}
		first := other
		if j < len(data) && data[j] == '{' {
			first = idx
		}
		if _, ok := first[key]; !ok {
			first[key] = at
		}
	}
	for k, at := range other {
		if _, ok := idx[k]; !ok {
			idx[k] = at
		}
	}
	return idx
}
