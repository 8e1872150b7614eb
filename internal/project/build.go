package project

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// frameworks maps a dependency to its framework name and default output
// directory, in detection order.
var frameworks = []struct{ dep, name, output string }{
	{"next", "next", "out"},
	{"react-scripts", "cra", "build"},
	{"@sveltejs/kit", "sveltekit", "build"},
	{"astro", "astro", "dist"},
	{"@vue/cli-service", "vue-cli", "dist"},
	{"vite", "vite", "dist"},
	{"parcel", "parcel", "dist"},
	{"webpack", "webpack", "dist"},
}

// detectBuild sets the build script, command, framework and output folder.
func detectBuild(d *Detection, appDir string, pkg *packageJSON) {
	for _, s := range []string{"build:prod", "build"} {
		if _, ok := pkg.Scripts[s]; ok {
			d.BuildScript, d.BuildCommand = s, runScript(d.PackageManager, s)
			break
		}
	}
	if d.BuildScript == "" {
		d.Notes = append(d.Notes, "package.json has no build script: set build.command in phoenix.yaml")
	}
	for _, f := range frameworks {
		if pkg.hasDep(f.dep) {
			d.Framework, d.Output, d.OutputSource = f.name, f.output, "default for "+f.name
			break
		}
	}
	switch d.Framework {
	case "vite":
		viteOutDir(d, appDir)
	case "next":
		nextExport(d, appDir)
	case "":
		d.Output, d.OutputSource = "dist", "default"
		d.Notes = append(d.Notes, "no known framework found: check build.output")
	}
}

var (
	viteConfigs = []string{"vite.config.ts", "vite.config.mts", "vite.config.js", "vite.config.mjs", "vite.config.cjs", "vite.config.cts"}
	outDirRx    = regexp.MustCompile(`\boutDir\s*:\s*(?:'([^'\n]*)'|"([^"\n]*)"|` + "`([^`$\\n]*)`" + `|([^,}\n]+))`)
)

// viteOutDir reads build.outDir from vite.config.* when it is a literal.
func viteOutDir(d *Detection, appDir string) {
	for _, name := range viteConfigs {
		data, err := os.ReadFile(filepath.Join(appDir, name))
		if err != nil {
			continue
		}
		m := outDirRx.FindSubmatch(stripComments(data))
		if m == nil {
			return
		}
		lit := string(m[1]) + string(m[2]) + string(m[3])
		if lit == "" || m[4] != nil {
			d.Notes = append(d.Notes, name+" computes build.outDir; check build.output (assumed "+d.Output+")")
			return
		}
		if out := path.Clean(lit); insideApp(out) {
			d.Output, d.OutputSource = out, name+" outDir"
		} else {
			d.Notes = append(d.Notes, name+" builds outside the app directory ("+lit+"); set build.output")
		}
		return
	}
}

var (
	blockCommentRx = regexp.MustCompile(`(?s)/\*.*?\*/`)
	lineCommentRx  = regexp.MustCompile(`(?m)(^|[^:])//.*$`)
	nextExportRx   = regexp.MustCompile(`\boutput\s*:\s*['"]export['"]`)
	nextDistDirRx  = regexp.MustCompile(`\bdistDir\s*:\s*['"]([^'"\n]+)['"]`)
)

// stripComments removes JavaScript comments well enough for the regexes.
func stripComments(src []byte) []byte {
	return lineCommentRx.ReplaceAll(blockCommentRx.ReplaceAll(src, nil), []byte("$1"))
}

// nextExport checks that a Next.js app is a static export.
func nextExport(d *Detection, appDir string) {
	for _, name := range []string{"next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"} {
		data, err := os.ReadFile(filepath.Join(appDir, name))
		if err != nil {
			continue
		}
		src := stripComments(data)
		if !nextExportRx.Match(src) {
			break
		}
		if m := nextDistDirRx.FindSubmatch(src); m != nil && insideApp(path.Clean(string(m[1]))) {
			d.Output, d.OutputSource = path.Clean(string(m[1])), name+" distDir"
		} else {
			d.OutputSource = name + " output: 'export'"
		}
		return
	}
	d.Notes = append(d.Notes, "Next.js without output: 'export' needs a server; Phoenix serves static exports (set output: 'export' in next.config)")
}

// detectNode finds the Node.js version in .nvmrc, .node-version or engines.
func detectNode(d *Detection, root, appDir string, rootPkg, pkg *packageJSON) {
	for _, dir := range uniqueDirs(appDir, root) {
		for _, f := range []string{".nvmrc", ".node-version"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				continue
			}
			v := strings.TrimPrefix(strings.TrimSpace(firstLine(string(data))), "v")
			if usableNode(v) {
				d.Node, d.NodeSource = v, relTo(root, filepath.Join(dir, f))
				return
			}
			d.Notes = append(d.Notes, f+" holds "+v+", which is not a version phoenix.yaml accepts; set build.node")
		}
	}
	for _, p := range []*packageJSON{pkg, rootPkg} {
		if p != nil && p.Engines.Node != "" && usableNode(p.Engines.Node) {
			d.Node, d.NodeSource = p.Engines.Node, "package.json engines.node"
			return
		}
	}
}

// usableNode reports whether v is an LTS name or a semver constraint.
func usableNode(v string) bool {
	if v == "lts/*" || strings.HasPrefix(v, "lts/") || v == "lts" {
		return true
	}
	_, err := semver.NewConstraint(v)
	return v != "" && err == nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func uniqueDirs(dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		if len(out) == 0 || out[len(out)-1] != d {
			out = append(out, d)
		}
	}
	return out
}

func relTo(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

// npmDefaultTest is the test script npm init writes.
const npmDefaultTest = `echo "Error: no test specified" && exit 1`

// testScripts maps script names to test kinds, most specific first.
var testScripts = []struct{ kind, script string }{
	{"unit", "test:unit"}, {"unit", "test"},
	{"integration", "test:integration"}, {"integration", "test:int"},
	{"e2e", "test:e2e"}, {"e2e", "e2e"}, {"e2e", "cypress:run"}, {"e2e", "test:playwright"},
	{"load", "test:load"}, {"load", "load"},
}

// detectTests finds test scripts and e2e tools.
func detectTests(d *Detection, appDir string, pkg *packageJSON) []TestScript {
	byKind := map[string]TestScript{}
	for _, ts := range testScripts {
		body, ok := pkg.Scripts[ts.script]
		if _, done := byKind[ts.kind]; done || !ok || strings.TrimSpace(body) == npmDefaultTest {
			continue
		}
		byKind[ts.kind] = TestScript{Kind: ts.kind, Script: ts.script, Command: runScript(d.PackageManager, ts.script)}
	}
	if _, ok := byKind["e2e"]; !ok {
		if cmd := e2eTool(d.PackageManager, appDir, pkg); cmd != "" {
			byKind["e2e"] = TestScript{Kind: "e2e", Command: cmd}
		}
	}
	out := make([]TestScript, 0, len(byKind))
	for _, t := range byKind {
		out = append(out, t)
	}
	order := map[string]int{"unit": 0, "integration": 1, "e2e": 2, "load": 3}
	sort.Slice(out, func(i, j int) bool { return order[out[i].Kind] < order[out[j].Kind] })
	return out
}

// e2eTool returns the Cypress or Playwright command when one is set up.
func e2eTool(pm, appDir string, pkg *packageJSON) string {
	exists := func(names ...string) bool {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(appDir, n)); err == nil {
				return true
			}
		}
		return false
	}
	switch {
	case pkg.hasDep("cypress") || exists("cypress.config.ts", "cypress.config.js", "cypress.config.mjs", "cypress.json"):
		return execTool(pm, "cypress run")
	case pkg.hasDep("@playwright/test") || exists("playwright.config.ts", "playwright.config.js", "playwright.config.mjs"):
		return execTool(pm, "playwright test")
	}
	return ""
}

// execTool runs a locally installed tool through the package manager.
func execTool(pm, args string) string {
	switch pm {
	case "pnpm":
		return "pnpm exec " + args
	case "yarn":
		return "yarn " + args
	}
	return "npx " + args
}

// insideApp reports whether a cleaned relative path stays in the app
// directory, as phoenix.yaml requires of build.output.
func insideApp(p string) bool {
	return p != "" && p != "." && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../") &&
		!strings.ContainsAny(p, "\\\x00")
}
