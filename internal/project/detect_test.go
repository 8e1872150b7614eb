package project

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

func TestDetectFixtures(t *testing.T) {
	tests := []struct {
		dir, app string
		want     Detection // Root, Notes and Workspaces are checked separately
	}{
		{"npm-vite", "", Detection{
			Name: "marketing-site", PackageManager: "npm", PackageManagerSource: "package-lock.json",
			Lockfile: "package-lock.json", Install: "npm ci", BuildScript: "build", BuildCommand: "npm run build",
			Framework: "vite", Output: "site-dist", OutputSource: "vite.config.ts outDir",
			Node: "20.19.0", NodeSource: ".nvmrc",
			Tests: []TestScript{
				{Kind: "unit", Script: "test", Command: "npm test"},
				{Kind: "e2e", Script: "test:e2e", Command: "npm run test:e2e"},
			},
			SWAConfig: "public/staticwebapp.config.json",
		}},
		{"pnpm-monorepo", "apps/web", Detection{
			App: "apps/web", Name: "web", PackageManager: "pnpm", PackageManagerVersion: "9.12.3",
			PackageManagerSource: "packageManager field", Lockfile: "pnpm-lock.yaml",
			Install: "pnpm install --frozen-lockfile", BuildScript: "build:prod", BuildCommand: "pnpm run build:prod",
			Framework: "vite", Output: "dist", OutputSource: "default for vite",
			Node: ">=20.19 <23", NodeSource: "package.json engines.node",
			Tests: []TestScript{
				{Kind: "unit", Script: "test:unit", Command: "pnpm run test:unit"},
				{Kind: "e2e", Command: "pnpm exec cypress run"},
			},
			SWAConfig: "staticwebapp.config.json",
		}},
		{"yarn-berry", "", Detection{
			Name: "berry-shop", PackageManager: "yarn", PackageManagerVersion: "4.5.0",
			PackageManagerSource: "packageManager field", Lockfile: "yarn.lock", YarnBerry: true,
			Install: "yarn install --immutable", BuildScript: "build", BuildCommand: "yarn run build",
			Framework: "vite", Output: "dist", OutputSource: "default for vite",
			Node: "22", NodeSource: ".node-version",
			Tests: []TestScript{
				{Kind: "unit", Script: "test", Command: "yarn test"},
				{Kind: "e2e", Command: "yarn cypress run"},
			},
		}},
		{"cra", "", Detection{
			Name: "legacy-portal", PackageManager: "npm", PackageManagerSource: "package-lock.json",
			Lockfile: "package-lock.json", Install: "npm ci", BuildScript: "build", BuildCommand: "npm run build",
			Framework: "cra", Output: "build", OutputSource: "default for cra",
			Node: "lts/iron", NodeSource: ".nvmrc",
			Tests: []TestScript{{Kind: "unit", Script: "test", Command: "npm test"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			d, err := Detect(filepath.Join("testdata", tt.dir), tt.app)
			if err != nil {
				t.Fatal(err)
			}
			got := *d
			got.Root, got.Notes, got.Workspaces = "", nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Detect:\n got %+v\nwant %+v", got, tt.want)
			}
			checkRender(t, d)
		})
	}
}

// checkRender parses Render's output and fails on any problem, warnings
// included.
func checkRender(t *testing.T, d *Detection) *config.Config {
	t.Helper()
	out := Render(d)
	c, err := config.Parse(out, "phoenix.yaml")
	if err != nil {
		t.Fatalf("rendered phoenix.yaml has problems:\n%v\n---\n%s", err, out)
	}
	if len(c.Warnings) > 0 {
		t.Fatalf("rendered phoenix.yaml has warnings:\n%v\n---\n%s", c.Warnings, out)
	}
	if c.Project.Name != d.Name || c.Build.Output != d.Output || c.Build.App != d.App || c.Build.Command != d.BuildCommand {
		t.Errorf("render lost detected values: %+v", c.Build)
	}
	if len(c.Notifications.Channels) != 0 {
		t.Errorf("channels live before their secret is stored: %v", c.Notifications.Channels)
	}
	// Uncommented, as its comment says to once the secret is stored, the
	// channel is valid and reads the secret.
	uncommented := uncommentChannel(string(out))
	on, err := config.Parse([]byte(uncommented), "phoenix.yaml")
	if err != nil {
		t.Fatalf("uncommented channel: %v\n%s", err, uncommented)
	}
	if got := on.Notifications.Channels["teams"].URL.String(); got != "secret:PROD_TEAMS_WEBHOOK_URL" {
		t.Errorf("teams url = %s", got)
	}
	if len(c.Monitor.AllAlerts()) != 5 || len(c.Environments) != 2 {
		t.Errorf("render lacks the seed's monitoring defaults")
	}
	if !strings.HasPrefix(string(out), "# yaml-language-server: $schema=") {
		t.Error("render lacks the schema modeline")
	}
	return c
}

func TestDetectWorkspaceNeedsApp(t *testing.T) {
	// a root without a build script of its own: which app to release?
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "pnpm-monorepo"))); err != nil {
		t.Fatal(err)
	}
	write(t, root, "package.json", `{"name":"acme-monorepo","private":true,"devDependencies":{"turbo":"^2.5.0"}}`)
	_, err := Detect(root, "")
	var we *WorkspaceError
	if !errors.As(err, &we) {
		t.Fatalf("want a WorkspaceError, got %v", err)
	}
	if want := []string{"apps/web", "packages/ui"}; !reflect.DeepEqual(we.Candidates, want) {
		t.Errorf("candidates = %v, want %v", we.Candidates, want)
	}
	if msg := err.Error(); !strings.Contains(msg, "--app apps/web") || !strings.Contains(msg, "pnpm-workspace.yaml") {
		t.Errorf("message does not say what to do: %s", msg)
	}
	d, err := Detect(filepath.Join("testdata", "pnpm-monorepo"), "apps/web")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/docs", "apps/web", "packages/config", "packages/ui"}
	if !reflect.DeepEqual(d.Workspaces, want) {
		t.Errorf("workspaces = %v, want %v (test/** excluded)", d.Workspaces, want)
	}
}

// TestDetectWorkspaceRootBuilds: a workspace root whose package.json has
// the build script (turbo run build) was refused like one without, asking
// for --app; it is the project, its build the release's, and a note names
// the apps --app could pick instead. --app . says the same of any root.
func TestDetectWorkspaceRootBuilds(t *testing.T) {
	for _, app := range []string{"", "."} {
		d, err := Detect(filepath.Join("testdata", "pnpm-monorepo"), app)
		if err != nil {
			t.Fatalf("--app %q: %v", app, err)
		}
		if d.App != "" || d.BuildCommand != "pnpm run build" || d.Name != "acme-monorepo" {
			t.Errorf("--app %q: app %q, build %q, name %q", app, d.App, d.BuildCommand, d.Name)
		}
		if !slices.ContainsFunc(d.Notes, func(n string) bool {
			return strings.Contains(n, "phoenix init --app apps/web --force (apps: apps/web, packages/ui)")
		}) {
			t.Errorf("--app %q: notes %q name no app", app, d.Notes)
		}
	}
}

func TestDetectNpmWorkspaces(t *testing.T) {
	root := t.TempDir()
	write(t, root, "package.json", `{"name":"mono","workspaces":{"packages":["sites/*"]}}`)
	write(t, root, "package-lock.json", `{}`)
	write(t, root, "sites/shop/package.json", `{"name":"shop","scripts":{"build":"next build"},"dependencies":{"next":"15.0.0"}}`)
	write(t, root, "sites/shop/next.config.mjs", "// static\nexport default { output: 'export', distDir: 'static-out' }\n")
	_, err := Detect(root, "")
	var we *WorkspaceError
	if !errors.As(err, &we) || we.Source != "package.json workspaces" || len(we.Candidates) != 1 {
		t.Fatalf("want a WorkspaceError from package.json workspaces, got %v", err)
	}
	d, err := Detect(root, "sites/shop")
	if err != nil {
		t.Fatal(err)
	}
	if d.Framework != "next" || d.Output != "static-out" || d.Lockfile != "package-lock.json" || d.Install != "npm ci" {
		t.Errorf("got %+v", d)
	}
	checkRender(t, d)
}

func TestDetectEdgeCases(t *testing.T) {
	t.Run("app outside the root", func(t *testing.T) {
		if _, err := Detect(t.TempDir(), "../x"); err == nil || !strings.Contains(err.Error(), "inside") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("missing app", func(t *testing.T) {
		if _, err := Detect(filepath.Join("testdata", "pnpm-monorepo"), "apps/webb"); err == nil || !strings.Contains(err.Error(), "apps/web") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		if _, err := Detect(t.TempDir(), ""); !errors.Is(err, ErrNoProject) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("broken package.json", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "package.json", `{"name":`)
		if _, err := Detect(root, ""); err == nil || !strings.Contains(err.Error(), "package.json") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("plain static folder", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "My Site")
		write(t, root, "index.html", "<h1>hi</h1>")
		write(t, root, "staticwebapp.config.json", "{}")
		d, err := Detect(root, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.Framework != "static" || d.Output != "." || d.Name != "my-site" || d.SWAConfig != "staticwebapp.config.json" {
			t.Errorf("got %+v", d)
		}
		// No lockfile: the gates that read one are off, the secret scan is on.
		c := checkRender(t, d)
		for _, name := range config.CheckNames {
			if on, _ := c.Checks.Enabled(name); on != (name == "secrets") {
				t.Errorf("checks.%s.enabled is %v in a static folder's phoenix.yaml", name, on)
			}
		}
		if c.Build.PackageManager != "auto" || c.Build.Command != "" {
			t.Errorf("a static folder's build: %+v", c.Build)
		}
	})
	t.Run("static files in public/", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "README.md", "# pages")
		write(t, root, "public/index.html", "<h1>hi</h1>")
		write(t, root, "www/index.html", "<h1>older</h1>")
		d, err := Detect(root, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.Framework != "static" || d.Output != "public" || d.OutputSource != "public/index.html, no package.json" || len(d.Notes) != 1 {
			t.Errorf("got %+v", d)
		}
		checkRender(t, d)
	})
	t.Run("no lockfile, no build script, lockfile mismatch", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "package.json", `{"name":"x","packageManager":"pnpm@9.0.0"}`)
		write(t, root, "yarn.lock", "# yarn lockfile v1\n")
		d, err := Detect(root, "")
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(d.Notes, "\n")
		for _, w := range []string{"no build script", "but the lockfile is yarn.lock", "check build.output"} {
			if !strings.Contains(notes, w) {
				t.Errorf("notes lack %q:\n%s", w, notes)
			}
		}
		if d.PackageManager != "pnpm" || d.Install != "pnpm install" {
			t.Errorf("got %+v", d)
		}
		checkRender(t, d)
	})
	t.Run("computed vite outDir and staticwebapp.config.json in the output", func(t *testing.T) {
		d, err := Detect(filepath.Join("testdata", "yarn-berry"), "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(d.Notes, "\n"), "computes build.outDir") {
			t.Errorf("notes = %v", d.Notes)
		}
		root := t.TempDir()
		write(t, root, "package.json", `{"name":"x","scripts":{"build":"react-scripts build"},"dependencies":{"react-scripts":"5"}}`)
		write(t, root, "build/staticwebapp.config.json", "{}")
		if d, err = Detect(root, ""); err != nil || d.SWAConfig != "build/staticwebapp.config.json" {
			t.Errorf("got %+v, %v", d, err)
		}
	})
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"@acme/web": "web", "Berry Shop": "berry-shop", "__x__": "x", "": "dir", "!!!": "dir",
		strings.Repeat("a", 80): strings.Repeat("a", 63),
	} {
		if got := slug(in, "dir"); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	for _, tt := range []struct {
		glob, path string
		want       bool
	}{
		{"apps/*", "apps/web", true}, {"apps/*", "apps/web/x", false}, {"packages/**", "packages/a/b", true},
		{"**/test/**", "packages/ui/test/fixture", true}, {"**/test/**", "packages/ui", false}, {"apps/web", "apps/web", true},
	} {
		if got := matchGlob(strings.Split(tt.glob, "/"), strings.Split(tt.path, "/")); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v", tt.glob, tt.path, got)
		}
	}
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"dist": "dist", "npm run build": "npm run build", ">=20.19 <23": `">=20.19 <23"`, "20": `"20"`,
		"yes": `"yes"`, "a: b": `"a: b"`, "x #y": `"x #y"`, "tsc -b && vite build": `"tsc -b && vite build"`,
	} {
		if got := q(in); got != want {
			t.Errorf("q(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDetectOutDirOutsideApp(t *testing.T) {
	root := t.TempDir()
	write(t, root, "package.json", `{"name":"x","scripts":{"build":"vite build"},"devDependencies":{"vite":"7"}}`)
	write(t, root, "vite.config.ts", "export default { build: { outDir: '../public' } }\n")
	d, err := Detect(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Output != "dist" || !strings.Contains(strings.Join(d.Notes, "\n"), "builds outside the app directory") {
		t.Errorf("got output %q, notes %v", d.Output, d.Notes)
	}
	checkRender(t, d)
}

// TestRenderSuggestsAnApproverWhoSeesTheRelease: the approver phoenix
// init suggests for production also reads staging. A release goes to
// staging first and only those who may read every environment it acts on
// see it, so an approver granted production alone was told "no run N" by
// phoenix approve.
func TestRenderSuggestsAnApproverWhoSeesTheRelease(t *testing.T) {
	d, err := Detect(filepath.Join("testdata", "npm-vite"), "")
	if err != nil {
		t.Fatal(err)
	}
	out := string(Render(d))
	for _, want := range []string{
		"#   phoenix user add dana --role admin --env production\n",
		"#   phoenix user grant dana viewer --env staging\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the rendered phoenix.yaml does not suggest %q:\n%s", strings.TrimSpace(want), out)
		}
	}
}

// TestDetectWorkspaceMember: a package of a workspace, detected in its own
// folder (a phoenix.yaml per app), found no lockfile: npm install, and a
// note to commit one that exists. The workspace root's lockfile and
// packageManager are its own; the package managers install the whole
// workspace when run in one of its packages.
func TestDetectWorkspaceMember(t *testing.T) {
	for _, tc := range []struct{ dir, pm, lock, install string }{
		{"ws-npm", "npm", "../../package-lock.json", "npm ci"},
		{"ws-pnpm9", "pnpm", "../../pnpm-lock.yaml", "pnpm install --frozen-lockfile"},
		{"ws-yarn1", "yarn", "../../yarn.lock", "yarn install --frozen-lockfile"},
		{"ws-berry", "yarn", "../../yarn.lock", "yarn install --immutable"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			d, err := Detect(filepath.Join("..", "scan", "lockfile", "testdata", tc.dir, "apps", "web"), "")
			if err != nil {
				t.Fatal(err)
			}
			if d.PackageManager != tc.pm || d.Lockfile != tc.lock || d.Install != tc.install || d.PackageManagerSource != tc.lock {
				t.Errorf("package manager %s (%s), lockfile %q, install %q; want %s, %s, %s", d.PackageManager, d.PackageManagerSource, d.Lockfile, d.Install, tc.pm, tc.lock, tc.install)
			}
			if !slices.ContainsFunc(d.Notes, func(n string) bool { return strings.HasPrefix(n, "the package apps/web of the workspace in ../..") }) ||
				slices.ContainsFunc(d.Notes, func(n string) bool { return strings.Contains(n, "no lockfile") }) {
				t.Errorf("notes %q", d.Notes)
			}
		})
	}
}

// uncommentChannel removes the leading # of the commented notifications
// block, as a user does once its secret is stored.
func uncommentChannel(yaml string) string {
	lines := strings.Split(yaml, "\n")
	in := false
	for i, l := range lines {
		if l == "#notifications:" {
			in = true
		}
		if in && !strings.HasPrefix(l, "#") {
			break
		}
		if in {
			lines[i] = strings.TrimPrefix(l, "#")
		}
	}
	return strings.Join(lines, "\n")
}
