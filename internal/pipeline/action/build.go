package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/project"
)

// BuildPlan is how a project is installed and built.
type BuildPlan struct {
	PackageManager string // npm, pnpm, yarn; "" for a folder of static files
	Version        string // pinned by packageManager in package.json, "" otherwise
	Berry          bool   // yarn 2+
	Install        string // run in the project root
	Build          string // run in the app directory
	AppDir         string // relative to the root
	Output         string // relative to the root
}

// PlanBuild decides the build of the project in dir from phoenix.yaml's
// build section and what the project's files say (lockfile, packageManager
// field, scripts, workspaces).
func PlanBuild(dir string, sc *Context) (*BuildPlan, error) {
	app := ""
	if sc.Config != nil {
		app = sc.Config.Build.App
	}
	det, err := project.Detect(dir, app)
	var we *project.WorkspaceError
	if errors.As(err, &we) {
		return nil, fmt.Errorf("%s is a monorepo; set build.app in phoenix.yaml to the app to deploy, one of: %s",
			dir, strings.Join(we.Candidates, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	p := &BuildPlan{PackageManager: det.PackageManager, Version: det.PackageManagerVersion, Berry: det.YarnBerry,
		Install: det.Install, Build: det.BuildCommand, AppDir: det.App, Output: det.Output}
	if b := sc.Config; b != nil {
		if pm := b.Build.PackageManager; pm != "" && pm != "auto" && pm != p.PackageManager {
			p.PackageManager, p.Version = pm, ""
			p.Install = map[string]string{"npm": "npm ci", "pnpm": "pnpm install --frozen-lockfile", "yarn": "yarn install --frozen-lockfile"}[pm]
			if p.Build != "" {
				p.Build = pm + " run " + det.BuildScript
			}
		}
		p.Install = firstNonEmpty(b.Build.Install, p.Install)
		p.Build = firstNonEmpty(b.Build.Command, p.Build)
		p.Output = firstNonEmpty(b.Build.Output, p.Output)
	}
	p.Output = filepath.ToSlash(filepath.Join(p.AppDir, p.Output))
	return p, nil
}

// build installs the dependencies with the lockfile frozen, runs the build
// script in the app directory, and outputs dir (the build output,
// absolute). With input install false it does not install: an install
// step ran before it (the default plan's), and installing again would
// replace node_modules under the test suites running beside the build.
// A package manager missing from PATH, or of another version than
// packageManager pins, is installed through npm into the tools cache.
func (d *Deps) build(ctx context.Context, sc *Context) error {
	installed := sc.String("install") == "false"
	p, env, err := d.prepare(ctx, sc, !installed)
	if err != nil {
		return err
	}
	if installed {
		sc.Logf("dependencies: installed by the install step before this one, not installed again")
	} else if err := runInstall(ctx, sc, p, env); err != nil {
		return err
	}
	if p.Build == "" {
		sc.Logf("no build script: the output folder is deployed as it is")
	} else if err := sc.Exec(ctx, executor.Cmd{Script: p.Build, Dir: filepath.Join(sc.Dir, p.AppDir), Env: env}); err != nil {
		return fmt.Errorf("build (%s): %w", p.Build, err)
	}
	out := filepath.Join(sc.Dir, p.Output)
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return fmt.Errorf("build output %s does not exist (set build.output in phoenix.yaml)", p.Output)
	}
	sc.SetOutput("dir", out)
	sc.SetOutput("built", strconv.FormatBool(p.Build != ""))
	sc.SetOutput("package_manager", p.PackageManager)
	return nil
}

// install installs the project's dependencies (build.install, else the
// package manager's install with the lockfile frozen) in the project
// root, with build.env. The default plan runs it once, before the build
// and the test suites, which then run side by side on what it installed.
func (d *Deps) install(ctx context.Context, sc *Context) error {
	p, env, err := d.prepare(ctx, sc, true)
	if err != nil {
		return err
	}
	return runInstall(ctx, sc, p, env)
}

// prepare plans the build of sc's project and returns the plan and the
// environment its commands run in: build.env resolved, and the package
// manager set up (refresh: see ensureTool).
func (d *Deps) prepare(ctx context.Context, sc *Context, refresh bool) (*BuildPlan, []string, error) {
	p, err := PlanBuild(sc.Dir, sc)
	if err != nil {
		return nil, nil, err
	}
	env := withEnv(sc.Env, "PHOENIX_RELEASE="+sc.Run.Version)
	if sc.Config != nil {
		if env, err = d.withConfigEnv(ctx, sc, env, sc.Config.Build.Env, "build.env"); err != nil {
			return nil, nil, err
		}
	}
	if p.PackageManager == "" {
		sc.Logf("no package.json: a folder of static files, no package manager to set up")
		return p, env, nil
	}
	if env, err = d.ensureTool(ctx, sc, p, env, refresh); err != nil {
		return nil, nil, err
	}
	sc.Logf("package manager %s%s; install: %s; build: %s (in %s)", p.PackageManager, at(p.Version), p.Install,
		p.Build, firstNonEmpty(p.AppDir, "."))
	return p, env, nil
}

// runInstall runs the plan's install command, if it has one.
func runInstall(ctx context.Context, sc *Context, p *BuildPlan, env []string) error {
	if p.Install == "" {
		sc.Logf("no install command: nothing to install")
		return nil
	}
	if err := sc.Exec(ctx, executor.Cmd{Script: p.Install, Dir: sc.Dir, Env: env}); err != nil {
		return fmt.Errorf("install (%s): %w", p.Install, err)
	}
	return nil
}

func at(v string) string {
	if v == "" {
		return ""
	}
	return "@" + v
}

// withEnv sets one NAME=value in env.
func withEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

// Getenv is the value of name in env (NAME=value entries, the last
// wins), "" if unset.
func Getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// lookPath finds a program on the PATH of env.
func lookPath(env []string, prog string) string {
	for _, dir := range filepath.SplitList(Getenv(env, "PATH")) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// ensureTool makes the package manager (at the pinned version) available
// and returns env with its folder first on PATH. One of no pinned version
// is installed again (the latest) when refresh is set; the build after an
// install step, which did that already, uses the one in the tools cache.
func (d *Deps) ensureTool(ctx context.Context, sc *Context, p *BuildPlan, env []string, refresh bool) ([]string, error) {
	have := lookPath(env, p.PackageManager)
	if have != "" && (p.Version == "" || toolVersion(ctx, sc, have, env) == p.Version) {
		return env, nil
	}
	if p.Version == "" && p.PackageManager == "npm" {
		return nil, errors.New("npm is not on PATH: install Node.js (it brings npm)")
	}
	npm := lookPath(env, "npm")
	if npm == "" {
		return nil, fmt.Errorf("%s%s is needed and npm, which would install it, is not on PATH: install Node.js", p.PackageManager, at(p.Version))
	}
	pkg := p.PackageManager
	if pkg == "yarn" && (p.Berry || (p.Version != "" && !strings.HasPrefix(p.Version, "1."))) {
		pkg = "@yarnpkg/cli-dist"
	}
	ver := firstNonEmpty(p.Version, "latest")
	tools := firstNonEmpty(d.ToolsDir, filepath.Join(os.TempDir(), "phoenix-tools"))
	prefix := filepath.Join(tools, p.PackageManager+"@"+ver)
	bin := filepath.Join(prefix, "node_modules", ".bin")
	if lookPath([]string{"PATH=" + bin}, p.PackageManager) == "" || (ver == "latest" && refresh) {
		sc.Logf("installing %s@%s through npm into %s", pkg, ver, prefix)
		if err := os.MkdirAll(prefix, 0o755); err != nil {
			return nil, err
		}
		err := sc.Exec(ctx, executor.Cmd{Args: []string{npm, "install", "--no-audit", "--no-fund", "--prefix", prefix, pkg + "@" + ver},
			Dir: prefix, Env: env, Sandbox: sc.Sandbox(prefix)})
		if err != nil {
			return nil, fmt.Errorf("install %s@%s through npm: %w", pkg, ver, err)
		}
	}
	return withEnv(env, "PATH="+bin+string(filepath.ListSeparator)+Getenv(env, "PATH")), nil
}

// toolVersion runs "prog --version" as the step (confined like it: prog
// may be the project's) and returns the last line it printed.
func toolVersion(ctx context.Context, sc *Context, prog string, env []string) string {
	var out bytes.Buffer
	if err := sc.Exec(ctx, executor.Cmd{Args: []string{prog, "--version"}, Env: env, Output: &out}); err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
