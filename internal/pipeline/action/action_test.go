package action

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
)

func newContext(t *testing.T, dir string, cfg *config.Config, env []string) (*Context, *bytes.Buffer, map[string]string) {
	t.Helper()
	var log bytes.Buffer
	outs := map[string]string{}
	files := t.TempDir()
	sc := &Context{Run: RunInfo{ID: "1", Project: "site", Version: "v1.0.0"}, Dir: dir, WorkDir: dir, Files: files,
		Env: env, Config: cfg, Log: &log, With: map[string]any{},
		Exec: func(ctx context.Context, c executor.Cmd) error {
			c.Dir = firstNonEmpty(c.Dir, dir)
			if c.Env == nil {
				c.Env = env
			}
			c.Output = &log
			_, err := executor.Run(ctx, c)
			return err
		},
		SetOutput: func(k, v string) { outs[k] = v },
		Output:    func(step, name string) string { return outs[step+"."+name] },
		Mask:      func(string) {}, Approvals: func(string) int { return 0 }, Deployed: func(string) bool { return false },
	}
	return sc, &log, outs
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBuildInstallsPinnedPackageManagerThroughNPM uses a fake npm on PATH
// that "installs" pnpm by writing a script into the prefix; the build must
// then run pnpm's frozen install and the build script with that pnpm.
func TestBuildInstallsPinnedPackageManagerThroughNPM(t *testing.T) {
	bin, proj, tools := fakeNPM(t), t.TempDir(), t.TempDir()
	write(t, proj, map[string]string{
		"package.json":   `{"name":"site","packageManager":"pnpm@9.12.0","scripts":{"build":"vite build"},"devDependencies":{"vite":"^5"}}`,
		"pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
	})
	calls := filepath.Join(t.TempDir(), "calls")
	env := []string{"PATH=" + bin + ":/usr/bin:/bin", "CALLS=" + calls, "HOME=" + t.TempDir()}
	cfg := config.Default()
	sc, log, outs := newContext(t, proj, cfg, env)
	d := Deps{ToolsDir: tools}
	if err := d.build(context.Background(), sc); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	got, _ := os.ReadFile(calls)
	for _, want := range []string{"npm install --no-audit --no-fund --prefix " + filepath.Join(tools, "pnpm@9.12.0") + " pnpm@9.12.0",
		"pnpm install --frozen-lockfile", "pnpm run build"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing call %q in:\n%s", want, got)
		}
	}
	if outs["dir"] != filepath.Join(proj, "dist") {
		t.Errorf("dir output %q", outs["dir"])
	}
}

// fakeNPM returns a folder holding a fake npm that records its calls in
// $CALLS and "installs" pnpm 9.12.0 by writing a script into the
// --prefix, which records its calls too and builds dist/ on run.
func fakeNPM(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	write(t, bin, map[string]string{"npm": `#!/bin/sh
echo "npm $*" >> "$CALLS"
prefix=""
while [ $# -gt 0 ]; do case "$1" in --prefix) prefix="$2"; shift;; esac; shift; done
mkdir -p "$prefix/node_modules/.bin"
printf '#!/bin/sh\necho "pnpm $*" >> "$CALLS"\n[ "$1" = "--version" ] && echo 9.12.0\n[ "$1" = run ] && mkdir -p dist && echo hi > dist/index.html\nexit 0\n' > "$prefix/node_modules/.bin/pnpm"
chmod +x "$prefix/node_modules/.bin/pnpm"
`})
	return bin
}

// TestBuildOfAStaticFolderRunsNoPackageManager: a folder of static files
// (index.html, no package.json) builds without npm on PATH, installing or
// running nothing, and its output is the folder itself.
func TestBuildOfAStaticFolderRunsNoPackageManager(t *testing.T) {
	proj := t.TempDir()
	write(t, proj, map[string]string{"index.html": "<h1>hi</h1>"})
	env := []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
	sc, log, outs := newContext(t, proj, config.Default(), env)
	d := Deps{ToolsDir: t.TempDir()}
	if err := d.build(context.Background(), sc); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	if outs["dir"] != proj || !strings.Contains(log.String(), "no package manager to set up") {
		t.Errorf("dir output %q, log:\n%s", outs["dir"], log)
	}
}

func TestPlanBuild(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		app     string
		pm      string
		install string
		build   string
		output  string
	}{
		{"npm lockfile", map[string]string{"package.json": `{"scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}}`, "package-lock.json": "{}"},
			"", "npm", "npm ci", "npm run build", "dist"},
		{"yarn berry", map[string]string{"package.json": `{"packageManager":"yarn@4.1.0","scripts":{"build":"x"}}`, "yarn.lock": "__metadata:\n"},
			"", "yarn", "yarn install --immutable", "yarn run build", "dist"},
		{"monorepo app", map[string]string{"package.json": `{"private":true,"workspaces":["apps/*"]}`, "package-lock.json": "{}",
			"apps/web/package.json": `{"name":"web","scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}}`},
			"apps/web", "npm", "npm ci", "npm run build", "apps/web/dist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.files)
			cfg := config.Default()
			cfg.Build.App = tt.app
			sc, _, _ := newContext(t, dir, cfg, nil)
			p, err := PlanBuild(dir, sc)
			if err != nil {
				t.Fatal(err)
			}
			if p.PackageManager != tt.pm || p.Install != tt.install || p.Build != tt.build || p.Output != tt.output {
				t.Errorf("got %+v", p)
			}
		})
	}
	t.Run("monorepo without app lists candidates", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, tests[2].files)
		sc, _, _ := newContext(t, dir, config.Default(), nil)
		if _, err := PlanBuild(dir, sc); err == nil || !strings.Contains(err.Error(), "apps/web") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestValidateTag(t *testing.T) {
	tests := []struct {
		name, version, last, changelog string
		ok                             bool
	}{
		{"first release", "v1.0.0", "", "", true},
		{"without v", "1.2.3", "v1.2.2", "", true},
		{"prerelease", "v2.0.0-rc.1", "v1.9.0", "", true},
		{"not semver", "v1.2", "", "", false},
		{"not greater", "v1.0.0", "1.0.0", "", false},
		{"lower", "v0.9.0", "v1.0.0", "", false},
		{"changelog has it", "v1.1.0", "", "## [1.1.0] - 2026-01-01\n", true},
		{"changelog lacks it", "v1.1.0", "", "## 1.1.01\n## 11.1.0\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := config.Default()
			if tt.changelog != "" {
				write(t, dir, map[string]string{"CHANGELOG.md": tt.changelog})
				cfg.Release.Changelog = "CHANGELOG.md"
			}
			sc, _, _ := newContext(t, dir, cfg, nil)
			sc.Run.Version = tt.version
			if tt.last != "" {
				sc.Run.Released = []Released{{Version: tt.last, Environments: []string{"production"}}}
			}
			if err := validateTag(context.Background(), sc); (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestValidateTagPromotes: a version released to staging alone goes on
// to production with the same tag, which is not greater than the last
// release; never back to an environment that had it or a newer one, and
// an unreleased version still has to be greater.
func TestValidateTagPromotes(t *testing.T) {
	released := []Released{ // newest first
		{Version: "v1.1.0", Environments: []string{"staging"}},
		{Version: "v1.0.0", Environments: []string{"staging"}},
		{Version: "v0.9.0", Environments: []string{"staging", "production"}},
	}
	tests := []struct {
		name, version string
		envs          []string
		want          string // in the log; "" for a refusal
	}{
		{"the last one", "v1.1.0", []string{"production"}, "version 1.1.0, released to staging, is promoted to production (last release there: v0.9.0 on production)"},
		{"an earlier one", "1.0.0", []string{"production"}, "version 1.0.0, released to staging, is promoted to production"},
		{"where it went", "v1.1.0", []string{"staging"}, ""},
		{"with where it went", "v1.1.0", []string{"staging", "production"}, ""},
		{"back", "v0.9.0", []string{"production"}, ""},
		{"never released", "v1.0.5", []string{"production"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, log, _ := newContext(t, t.TempDir(), config.Default(), nil)
			sc.Run.Version, sc.Run.Environments, sc.Run.Released = tt.version, tt.envs, released
			err := validateTag(context.Background(), sc)
			switch {
			case tt.want == "" && (err == nil || !strings.Contains(err.Error(), "is not greater than the last release v1.1.0")):
				t.Fatalf("err %v, want a refusal", err)
			case tt.want != "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && !strings.Contains(log.String(), tt.want):
				t.Errorf("log:\n%s\nwant %q", log.String(), tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	p := Probe{Status: 200, Elapsed: 120 * time.Millisecond, Body: []byte(`{"status":"UP","items":[1,2]}`),
		Header: http.Header{"Content-Type": {"application/json"}}}
	tests := []struct {
		cond config.Condition
		ok   bool
	}{
		{config.Condition{Type: "status", Operator: "==", Value: "200"}, true},
		{config.Condition{Type: "status", Operator: "==", Value: "any(201, 204)"}, false},
		{config.Condition{Type: "response_time", Operator: "<", Value: "500"}, true},
		{config.Condition{Type: "response_time", Operator: "<", Value: "100ms"}, false},
		{config.Condition{Type: "body", Path: "status", Operator: "==", Value: "UP"}, true},
		{config.Condition{Type: "body", Operator: "==", Value: "pat(*UP*)"}, true},
		{config.Condition{Type: "body", Operator: "==", Value: "pat(*DOWN*)"}, false},
		{config.Condition{Type: "header", Path: "Content-Type", Operator: "==", Value: "application/json"}, true},
		{config.Condition{Type: "connected", Operator: "==", Value: "true"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond.String(), func(t *testing.T) {
			if err := Evaluate(p, []config.Condition{tt.cond}); (err == nil) != tt.ok {
				t.Errorf("err %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if err := Evaluate(Probe{Err: errors.New("refused")}, nil); err == nil {
		t.Error("a failed request passed")
	}
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"API_KEY": "from-file\n"})
	t.Setenv("PHX_API_KEY", "from-env")
	ctx := context.Background()
	if v, err := (FileSecrets{Dir: dir}).Secret(ctx, "API_KEY"); err != nil || v != "from-file" {
		t.Errorf("file: %q %v", v, err)
	}
	if v, err := (Chain{EnvSecrets{Prefix: "PHX_"}, FileSecrets{Dir: dir}}).Secret(ctx, "API_KEY"); err != nil || v != "from-env" {
		t.Errorf("chain: %q %v", v, err)
	}
	if _, err := (Chain{EnvSecrets{Prefix: "PHX_"}, FileSecrets{Dir: dir}}).Secret(ctx, "MISSING"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("missing: %v", err)
	}
	if _, err := (FileSecrets{Dir: dir}).Secret(ctx, "../etc/passwd"); err == nil {
		t.Error("path traversal accepted")
	}
}

func TestRegistryBuiltins(t *testing.T) {
	r := Builtins(Deps{})
	for _, name := range []string{"validate-tag", "build", "test", "check/audit", "check/licenses", "check/secrets", "check/sbom",
		"fetch-secrets", "create-artifact", "deploy", "purge-cache", "monitoring", "register-workflows", "health-check", "notify", "rollback"} {
		if !r.Known(name) {
			t.Errorf("%s not registered", name)
		}
	}
	r.Register("custom/lint", Func(func(context.Context, *Context) error { return nil }))
	if !r.Known("custom/lint") {
		t.Error("custom action not registered")
	}
}

// TestBuiltinsAreTheConfigActions: phoenix.yaml's loader checks a step's
// uses against config.Actions, so that phoenix validate reports an unknown
// action with its position; the list must be the registry's, else validate
// would refuse a real action or pass one a release then refuses. The
// pipeline adds release (TestServiceActionsAreTheConfigActions there).
func TestBuiltinsAreTheConfigActions(t *testing.T) {
	want := slices.DeleteFunc(slices.Clone(config.Actions), func(n string) bool { return n == "release" })
	if got := Builtins(Deps{}).Names(); !slices.Equal(got, want) {
		t.Errorf("built-in actions %v,\nconfig.Actions   %v", got, want)
	}
}
