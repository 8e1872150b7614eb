package license

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/licensecheck"
	"golang.org/x/mod/module"

	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// Options tune a run. The zero value works.
type Options struct {
	Now        time.Time // defaults to time.Now()
	GoModCache string    // where Go module sources are; defaults to $GOMODCACHE or ~/go/pkg/mod
	All        bool      // also report allowed packages (verdict allow)
}

// Info is the licence found for one package.
type Info struct {
	Expr   string // SPDX expression, "" when unknown
	Source string // "lockfile", "package.json", "LICENSE text"
	// Skipped are the project's files not read because they lead outside
	// it through a symbolic link, each a sentence naming one
	Skipped []string
}

// Run finds the licence of every package in dir's lockfiles and reports
// those the policy does not simply allow (all of them with opts.All).
// Report.Stats counts packages per licence expression.
func Run(ctx context.Context, dir string, p Policy, opts Options) (*report.Report, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.GoModCache == "" {
		opts.GoModCache = goModCache()
	}
	r := report.New(report.License, dir, opts.Now)
	r.Stats = map[string]int{}
	locks, err := lockfile.Load(ctx, dir)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.Problems = append(r.Problems, report.LoadProblems(dir, err)...)
	for _, l := range locks {
		file := l.RelPath(dir)
		if s := l.Source(); s != "" {
			r.Notes = append(r.Notes, s)
		}
		base, app := l.InstallBase(dir)
		fd := NewFinder(base, opts.GoModCache)
		defer fd.Close()
		r.Sources = append(r.Sources, file)
		for _, pr := range l.Problems {
			r.Problems = append(r.Problems, report.Problem{File: file, Entry: pr.Entry, Line: pr.Line, Msg: pr.Msg})
		}
		none := 0 // npm packages of no known licence
		for _, pkg := range l.Packages {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r.Scanned++
			info := fd.Find(app, pkg)
			r.Warnings = append(r.Warnings, info.Skipped...)
			if info.Expr == "" && pkg.Ecosystem == lockfile.NPM {
				none++
			}
			addFinding(r, p, pkg, info, file, opts.All)
		}
		if w := notInstalled(base, file, none, len(l.Packages)); w != "" {
			r.Warnings = append(r.Warnings, w)
		}
	}
	r.Sort()
	return r, nil
}

func addFinding(r *report.Report, p Policy, pkg lockfile.Package, info Info, file string, all bool) {
	verdict, _, err := p.Evaluate(info.Expr)
	label := info.Expr
	if label == "" {
		label = Unknown
	}
	r.Stats[label]++
	if verdict == Allow && !all {
		return
	}
	sev := map[string]string{Allow: "low", Review: "moderate", Deny: "high"}[verdict]
	title := fmt.Sprintf("%s licence %s", verdict, label)
	if err != nil {
		title += " (" + err.Error() + ")"
	}
	rule := strings.ReplaceAll(label, " ", "_")
	r.Findings = append(r.Findings, report.Finding{Kind: report.License, RuleID: "license/" + rule, Severity: sev, Title: title,
		Verdict: verdict, Ecosystem: pkg.Ecosystem, Package: pkg.Name, Version: pkg.Version, License: info.Expr,
		Dev: pkg.Dev, DepPath: pkg.Path, File: file, Line: pkg.Line})
}

// Find looks up a package's licence: its package.json in node_modules
// (where the lockfile says npm installs it, else node_modules/<name>; when
// its version matches), the lockfile's record, a LICENSE file in the
// package folder, and for Go modules the LICENSE in the module cache. A
// package.json that says "SEE LICENSE IN <file>" gets that file's licence
// when licensecheck recognises it.
func Find(dir, modCache string, pkg lockfile.Package) Info {
	fd := NewFinder(dir, modCache)
	defer fd.Close()
	return fd.Find("", pkg)
}

// Finder finds the licences of the packages of one lockfile, whose
// install locations are relative to a folder (lockfile.Lockfile.
// InstallBase), with the project's boundary opened once for all of them.
// The project's files are read within its lockfile.Boundary: a
// package.json or licence file that is, or is in a folder that is, a
// symbolic link leading outside it is not read, and Info.Skipped says so.
// Close it when done.
type Finder struct {
	modCache string
	root     *os.Root // nil when the boundary cannot be opened: the lockfile's word only
	base     string   // the folder within root
}

// NewFinder is a Finder for packages installed relative to the folder
// dir, Go modules looked up in modCache.
func NewFinder(dir, modCache string) *Finder {
	fd := &Finder{modCache: modCache}
	top := lockfile.Boundary(dir)
	base, ok := lockfile.Within(top, dir)
	root, err := os.OpenRoot(top)
	switch {
	case err != nil:
	case !ok:
		root.Close()
	default:
		fd.root, fd.base = root, base
	}
	return fd
}

// Close releases the boundary's folder.
func (fd *Finder) Close() {
	if fd.root != nil {
		fd.root.Close()
	}
}

// Find is Find for pkg, read for its workspace package in the folder app
// below the Finder's (the package may be installed in the app's own
// node_modules as well as that folder's).
func (fd *Finder) Find(app string, pkg lockfile.Package) Info {
	if pkg.Ecosystem == lockfile.Go {
		esc, err := module.EscapePath(pkg.Name)
		if err != nil || fd.modCache == "" {
			return Info{}
		}
		vesc, _ := module.EscapeVersion(pkg.Version)
		return classifyDir(&files{fsys: os.DirFS(filepath.Join(fd.modCache, esc+"@"+vesc))}, ".")
	}
	if fd.root == nil {
		return lockInfo(pkg)
	}
	f := &files{fsys: fd.root.FS(), base: fd.base}
	info := findInstalled(f, app, pkg)
	if info.Expr == "" {
		info = lockInfo(pkg)
	}
	info.Skipped = f.skipped
	return info
}

// findInstalled is the licence of pkg as installed in the project f
// reads: the package.json of the first of its install folders holding
// its version, its "SEE LICENSE IN" file, else a licence file beside it.
func findInstalled(f *files, app string, pkg lockfile.Package) Info {
	for _, rel := range installDirs(f, app, pkg) {
		pdir := path.Join(f.base, rel)
		m, ok := readPackageJSON(f, path.Join(pdir, "package.json"))
		if !ok || m.Version != pkg.Version {
			continue
		}
		if e := m.expr(); e != "" {
			if name, ok := strings.CutPrefix(e, "SEE LICENSE IN "); ok && filepath.IsLocal(strings.TrimSpace(name)) {
				if expr := classify(f, path.Join(pdir, filepath.ToSlash(strings.TrimSpace(name)))); expr != "" {
					return Info{Expr: expr, Source: "LICENSE text"}
				}
			}
			return Info{Expr: e, Source: "package.json"}
		}
		return classifyDir(f, pdir)
	}
	return Info{}
}

// lockInfo is the licence the lockfile records for pkg, if any.
func lockInfo(pkg lockfile.Package) Info {
	if pkg.License != "" {
		return Info{Expr: pkg.License, Source: "lockfile"}
	}
	return Info{}
}

// installDirs are the folders, relative to the project, where pkg may be
// installed: the one its lockfile records (an alias's, a nested copy's),
// node_modules/<name>, and pnpm's store of the project,
// node_modules/.pnpm/<name>@<version>/node_modules/<name> (the name's /
// written +), where pnpm installs every package but the project's own
// dependencies, which are links to it; a package with peer dependencies
// has them after its version (<name>@<version>_<peer>@<version>). For a
// workspace package in the folder app, <app>/node_modules/<name> comes
// before node_modules/<name>: yarn and npm install there a version other
// than the root's, pnpm links the package's own dependencies there.
func installDirs(f *files, app string, pkg lockfile.Package) []string {
	top := "node_modules/" + pkg.Name
	var out []string
	if pkg.Dir != "" && pkg.Dir != top && filepath.IsLocal(filepath.FromSlash(pkg.Dir)) {
		out = append(out, pkg.Dir)
	}
	if own := app + "/" + top; app != "" && own != pkg.Dir && filepath.IsLocal(filepath.FromSlash(own)) {
		out = append(out, own)
	}
	out = append(out, top)
	if !filepath.IsLocal(filepath.FromSlash(pkg.Name)) || strings.ContainsAny(pkg.Name+pkg.Version, `*?[\`) {
		return out
	}
	store := "node_modules/.pnpm/" + strings.ReplaceAll(pkg.Name, "/", "+") + "@" + pkg.Version
	if _, err := fs.Stat(f.fsys, path.Join(f.base, "node_modules/.pnpm")); err != nil {
		return out
	}
	out = append(out, store+"/node_modules/"+pkg.Name)
	peers, _ := fs.Glob(f.fsys, path.Join(f.base, store)+"_*")
	for _, p := range peers {
		out = append(out, f.rel(p)+"/node_modules/"+pkg.Name)
	}
	return out
}

// notInstalled explains packages of no known licence when the project's
// dependencies are not installed: pnpm-lock.yaml, yarn.lock and a v1
// package-lock.json record no licence, so without node_modules every
// package of theirs is unknown, with no word why.
func notInstalled(dir, file string, none, total int) string {
	if none == 0 {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return ""
	}
	return fmt.Sprintf("%d of %d packages of %s have no licence: it records none, and there is no node_modules to read their package.json from; install the dependencies first (npm ci, pnpm install --frozen-lockfile, yarn install --immutable)",
		none, total, file)
}

type pkgJSON struct {
	Version  string `json:"version"`
	License  any    `json:"license"`
	Licenses []any  `json:"licenses"`
}

func readPackageJSON(f *files, name string) (pkgJSON, bool) {
	var m pkgJSON
	data := f.read(name, 4<<20)
	return m, data != nil && json.Unmarshal(data, &m) == nil
}

// expr handles "MIT", {"type":"MIT"} and the old "licenses": [...] list
// (any of them).
func (m pkgJSON) expr() string {
	one := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			s, _ := x["type"].(string)
			return s
		}
		return ""
	}
	if s := one(m.License); s != "" {
		return s
	}
	var parts []string
	for _, l := range m.Licenses {
		if s := one(l); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) > 1 {
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	return strings.Join(parts, "")
}

// classifyDir reads LICENSE/COPYING-like files in the folder dir of f and
// classifies the first one licensecheck recognises well (>= 75% of the
// text).
func classifyDir(f *files, dir string) Info {
	entries, err := fs.ReadDir(f.fsys, dir)
	if err != nil {
		f.note(dir, err)
		return Info{}
	}
	for _, e := range entries {
		n := strings.ToUpper(e.Name())
		if e.IsDir() || !(strings.HasPrefix(n, "LICENSE") || strings.HasPrefix(n, "LICENCE") || strings.HasPrefix(n, "COPYING")) {
			continue
		}
		if expr := classify(f, path.Join(dir, e.Name())); expr != "" {
			return Info{Expr: expr, Source: "LICENSE text"}
		}
	}
	return Info{}
}

// Classify returns the SPDX id(s) of a licence text, joined with AND when
// the file holds several, or "" when it is not recognised.
func Classify(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > maxLicenseText {
		return ""
	}
	return classifyText(data)
}

// maxLicenseText bounds the licence files read.
const maxLicenseText = 1 << 20

// classify is Classify of the file name of f.
func classify(f *files, name string) string {
	data := f.read(name, maxLicenseText)
	if data == nil {
		return ""
	}
	return classifyText(data)
}

// classifyText is Classify of a file's content.
func classifyText(data []byte) string {
	cov := licensecheck.Scan(data)
	if cov.Percent < 75 {
		return ""
	}
	var ids []string
	seen := map[string]bool{}
	for _, m := range cov.Match {
		if !seen[m.ID] {
			seen[m.ID] = true
			ids = append(ids, m.ID)
		}
	}
	return strings.Join(ids, " AND ")
}

func goModCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	gp := os.Getenv("GOPATH")
	if gp == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		gp = filepath.Join(home, "go")
	}
	if _, err := os.Stat(filepath.Join(gp, "pkg", "mod")); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return filepath.Join(gp, "pkg", "mod")
}
