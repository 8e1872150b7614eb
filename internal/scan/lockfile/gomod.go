package lockfile

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// ParseGoMod reads go.mod: every required module (Go 1.17 and later list
// the indirect ones too) with replacements applied. Direct requirements get
// the path [module]; indirect ones are marked not Direct.
func ParseGoMod(path string, data []byte) (*Lockfile, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid go.mod: %w", path, err)
	}
	l := &Lockfile{Path: path, Format: "go.mod"}
	repl := map[string]module.Version{}
	for _, r := range f.Replace {
		if r.New.Version != "" { // a local directory replacement has no version
			repl[r.Old.Path+"@"+r.Old.Version] = r.New
			repl[r.Old.Path+"@"] = r.New
		}
	}
	main := ""
	if f.Module != nil {
		main = f.Module.Mod.Path
	}
	for _, r := range f.Require {
		mv := r.Mod
		if nv, ok := repl[mv.Path+"@"+mv.Version]; ok {
			mv = nv
		} else if nv, ok := repl[mv.Path+"@"]; ok {
			mv = nv
		}
		p := Package{Name: mv.Path, Version: mv.Version, Ecosystem: Go, Direct: !r.Indirect, Path: []string{mv.Path + "@" + mv.Version}}
		if r.Syntax != nil {
			p.Line = r.Syntax.Start.Line
		}
		if r.Indirect && main != "" {
			p.Path = []string{"(indirect via " + main + ")", p.ID()}
		}
		l.Packages = append(l.Packages, p)
	}
	l.sortPackages()
	return l, nil
}

// ParseGoSum reads go.sum: modules whose source was downloaded (lines
// without the /go.mod suffix). Malformed lines become problems.
func ParseGoSum(path string, data []byte) (*Lockfile, error) {
	l := &Lockfile{Path: path, Format: "go.sum"}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for ln := 1; sc.Scan(); ln++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[2], "h1:") {
			l.problem(clip(sc.Text()), ln, "want \"module version h1:hash\"")
			continue
		}
		if strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		if err := module.Check(f[0], f[1]); err != nil {
			l.problem(f[0], ln, "%v", err)
			continue
		}
		if id := f[0] + "@" + f[1]; !seen[id] {
			seen[id] = true
			l.Packages = append(l.Packages, Package{Name: f[0], Version: f[1], Ecosystem: Go, Path: []string{id}, Line: ln})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l.sortPackages()
	return l, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
