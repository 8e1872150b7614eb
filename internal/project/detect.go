// Package project inspects a web project on disk for phoenix init: it
// detects the package manager, build script and output folder, Node.js
// version, test scripts, an existing staticwebapp.config.json and monorepo
// workspaces (Detect), and writes a commented phoenix.yaml (Render).
//
// Detection only reads files; it never runs the package manager.
package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Detection is what Detect found. Paths are slash-separated and relative:
// App to Root, Output and SWAConfig to the app directory.
type Detection struct {
	Root                  string       `json:"root"`                              // absolute project root
	App                   string       `json:"app,omitempty"`                     // app directory relative to Root; "" for the root itself
	Name                  string       `json:"name"`                              // project slug, from package.json name or the directory
	PackageManager        string       `json:"package_manager,omitempty"`         // npm, pnpm or yarn
	PackageManagerVersion string       `json:"package_manager_version,omitempty"` // from the packageManager field, e.g. 9.12.0
	PackageManagerSource  string       `json:"package_manager_source,omitempty"`  // why: "packageManager field", "pnpm-lock.yaml", "default"
	Lockfile              string       `json:"lockfile,omitempty"`                // lockfile relative to Root, "" when there is none
	YarnBerry             bool         `json:"yarn_berry,omitempty"`              // yarn 2 or later
	Install               string       `json:"install,omitempty"`                 // install command, run in Root
	BuildScript           string       `json:"build_script,omitempty"`            // package.json script used to build: build:prod or build
	BuildCommand          string       `json:"build_command,omitempty"`           // build command, run in the app directory
	Framework             string       `json:"framework,omitempty"`               // vite, cra, next, vue-cli, astro, sveltekit, parcel, webpack, static or ""
	Output                string       `json:"output"`                            // build output directory
	OutputSource          string       `json:"output_source,omitempty"`           // why: "vite.config.ts outDir", "default for vite"
	Node                  string       `json:"node,omitempty"`                    // Node.js version or range, "" when not pinned
	NodeSource            string       `json:"node_source,omitempty"`             // file it came from: .nvmrc, .node-version, package.json engines
	Tests                 []TestScript `json:"tests,omitempty"`                   // detected test commands
	SWAConfig             string       `json:"swa_config,omitempty"`              // existing staticwebapp.config.json, "" when there is none
	Workspaces            []string     `json:"workspaces,omitempty"`              // workspace package directories when Root is a monorepo
	Notes                 []string     `json:"notes,omitempty"`                   // things detection could not settle; worth a look
}

// TestScript is one detected test command.
type TestScript struct {
	Kind    string `json:"kind"`             // unit, integration, e2e or load
	Script  string `json:"script,omitempty"` // package.json script name, "" for a tool default
	Command string `json:"command"`          // command to run in the app directory
}

// WorkspaceError is returned when Root is a monorepo and no app was chosen.
type WorkspaceError struct {
	Root       string
	Source     string   // pnpm-workspace.yaml or package.json workspaces
	Candidates []string // workspace packages with a build script
}

func (e *WorkspaceError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("%s is a workspace (%s) but no workspace package has a build script; pass --app DIR with the app to deploy", e.Root, e.Source)
	}
	return fmt.Sprintf("%s is a workspace (%s); choose the app to deploy with --app: %s (e.g. phoenix init --app %s)",
		e.Root, e.Source, strings.Join(e.Candidates, ", "), e.Candidates[0])
}

// ErrNoProject is returned when the directory holds neither a package.json
// nor an index.html (at its top or in one of staticDirs).
var ErrNoProject = errors.New("no package.json or index.html found")

// packageJSON is the part of package.json detection reads.
type packageJSON struct {
	Name            string            `json:"name"`
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	PackageManager  string            `json:"packageManager"`
	Engines         struct {
		Node string `json:"node"`
	} `json:"engines"`
	Workspaces json.RawMessage `json:"workspaces"`
}

// hasBuild reports whether p has a build script detectBuild uses.
func (p *packageJSON) hasBuild() bool {
	if p == nil {
		return false
	}
	_, a := p.Scripts["build"]
	_, b := p.Scripts["build:prod"]
	return a || b
}

func (p *packageJSON) hasDep(name string) bool {
	_, a := p.Dependencies[name]
	_, b := p.DevDependencies[name]
	return a || b
}

// readPackageJSON reads dir/package.json; it returns nil, nil when absent.
func readPackageJSON(dir string) (*packageJSON, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read package.json: %w", err)
	}
	var p packageJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", filepath.Join(dir, "package.json"), err)
	}
	return &p, nil
}

// Detect inspects the project in dir. app selects a workspace package
// (relative to dir) in a monorepo; "" means dir itself. When dir is a
// workspace root and app is "", Detect returns a *WorkspaceError listing
// the candidate apps.
func Detect(dir, app string) (*Detection, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", dir, err)
	}
	rootPkg, err := readPackageJSON(root)
	if err != nil {
		return nil, err
	}
	d := &Detection{Root: root}
	ws, wsSource, err := workspaces(root, rootPkg)
	if err != nil {
		return nil, err
	}
	d.Workspaces = ws
	appDir, err := resolveApp(d, app, wsSource, rootPkg)
	if err != nil {
		return nil, err
	}
	pkg := rootPkg
	if d.App != "" {
		if pkg, err = readPackageJSON(appDir); err != nil {
			return nil, err
		}
	}
	if pkg == nil {
		return detectStatic(d, appDir)
	}
	d.Name = slug(pkg.Name, filepath.Base(appDir))
	detectPackageManager(d, root, rootPkg, pkg, wsSource == "" && d.App == "")
	detectBuild(d, appDir, pkg)
	detectNode(d, root, appDir, rootPkg, pkg)
	d.Tests = detectTests(d, appDir, pkg)
	d.SWAConfig = findSWAConfig(appDir, d.Output)
	return d, nil
}

// resolveApp checks the app argument and returns the app directory. A
// workspace root is its own app when its package.json has a build script
// (a turbo or nx build of the whole workspace), or --app . says so.
func resolveApp(d *Detection, app, wsSource string, rootPkg *packageJSON) (string, error) {
	if app == "" || app == "." {
		if wsSource != "" && app == "" && !rootPkg.hasBuild() {
			return "", &WorkspaceError{Root: d.Root, Source: wsSource, Candidates: buildable(d.Root, d.Workspaces)}
		}
		if c := buildable(d.Root, d.Workspaces); wsSource != "" && len(c) > 0 {
			d.Notes = append(d.Notes, fmt.Sprintf("a workspace (%s): the root's build script builds the release, and the checks read all of its packages; to release one app instead: phoenix init --app %s --force (apps: %s)",
				wsSource, c[0], strings.Join(c, ", ")))
		}
		return d.Root, nil
	}
	clean := path.Clean(filepath.ToSlash(app))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("--app %s: give a directory inside %s, relative to it", app, d.Root)
	}
	appDir := filepath.Join(d.Root, filepath.FromSlash(clean))
	if st, err := os.Stat(appDir); err != nil || !st.IsDir() {
		hint := ""
		if c := buildable(d.Root, d.Workspaces); len(c) > 0 {
			hint = "; workspace apps: " + strings.Join(c, ", ")
		}
		return "", fmt.Errorf("--app %s: no such directory in %s%s", app, d.Root, hint)
	}
	d.App = clean
	return appDir, nil
}

// staticDirs are where detectStatic looks for index.html, in this order:
// the folder itself, then the folders static site tools and hand-made
// sites commonly keep the pages in.
var staticDirs = []string{".", "public", "site", "www", "_site", "dist", "build"}

// detectStatic handles a folder of plain files without package.json: the
// first of staticDirs holding an index.html is deployed as it is.
func detectStatic(d *Detection, appDir string) (*Detection, error) {
	out := ""
	for _, dir := range staticDirs {
		if st, err := os.Stat(filepath.Join(appDir, dir, "index.html")); err == nil && st.Mode().IsRegular() {
			out = dir
			break
		}
	}
	if out == "" {
		return nil, fmt.Errorf("detect %s: %w (index.html looked for in %s/); phoenix init understands Node projects and folders of static files",
			appDir, ErrNoProject, strings.Join(staticDirs, "/, "))
	}
	d.Name = slug("", filepath.Base(appDir))
	d.Framework, d.Output, d.OutputSource = "static", out, path.Join(out, "index.html")+", no package.json"
	if out != "." {
		d.Notes = append(d.Notes, fmt.Sprintf("%s/ is deployed as it is; if a tool generates it, set build.command to that tool's build", out))
	}
	d.SWAConfig = findSWAConfig(appDir, out)
	return d, nil
}

// findSWAConfig looks for staticwebapp.config.json in the app directory,
// its public/ folder and the output directory.
func findSWAConfig(appDir, output string) string {
	for _, dir := range []string{".", "public", output} {
		if dir == "" {
			continue
		}
		rel := path.Join(dir, "staticwebapp.config.json")
		if st, err := os.Stat(filepath.Join(appDir, filepath.FromSlash(rel))); err == nil && st.Mode().IsRegular() {
			return rel
		}
	}
	return ""
}

// slug turns a package name into a DNS label, falling back to the
// directory name and then to "site".
func slug(name, dirName string) string {
	for _, s := range []string{name, dirName} {
		if i := strings.LastIndex(s, "/"); i >= 0 {
			s = s[i+1:]
		}
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteRune(r)
			case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
				b.WriteByte('-')
			}
		}
		out := strings.Trim(b.String(), "-")
		if len(out) > 63 {
			out = strings.Trim(out[:63], "-")
		}
		if out != "" {
			return out
		}
	}
	return "site"
}
