package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// TestConfinedSteps: with Options.Hidden, a step cannot read the server's
// state or another run's files, nor change the package managers Phoenix
// installed, yet does its ordinary work: the project, $PHOENIX_FILES,
// $PHOENIX_OUTPUT, a TMPDIR and a HOME where it can make ~/.npm (the
// server's HOME here is the data dir, as for a systemd service). Without
// confinement the first step fails: it reads the state.
func TestConfinedSteps(t *testing.T) {
	f, data := confinedFixture(t, func(o *Options, data string) {
		o.Homes = filepath.Join(data, "homes")
		o.Env = append(os.Environ(), "HOME="+data)
		o.Deps.ToolsDir = filepath.Join(data, "tools")
	})
	for path, body := range map[string]string{
		filepath.Join(data, "runs", "999", "files", "secret"): "another run's",
		filepath.Join(data, "tools", "pnpm@9", "pnpm"):        "#!/bin/sh\necho 9.0.0\n",
	} {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	denied := func(cmd string) string {
		return fmt.Sprintf("if %s >/dev/null 2>&1; then echo 'LEAK: %s'; exit 1; fi; echo 'denied: %s'", cmd, cmd, cmd)
	}
	yaml := fmt.Sprintf(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: build
      steps:
        - name: compile
          run: |
            %s
            %s
            %s
            %s
            %s
            mkdir -p dist "$HOME/.npm" && echo app > dist/app.js && echo cached > "$HOME/.npm/index"
            t=$(mktemp) && echo tmp > "$t" && echo "tmp=$t" >> "$PHOENIX_OUTPUT"
            echo built > "$PHOENIX_FILES/app.txt"
            echo "home=$HOME" >> "$PHOENIX_OUTPUT"
            %s/pnpm@9/pnpm
    - name: ship
      needs: [build]
      steps:
        - name: use
          run: test "$(cat "$PHOENIX_FILES/app.txt")" = built && test -f dist/app.js && echo "home ${{ steps.build/compile.outputs.home }}"
`, denied("cat "+filepath.Join(data, "state.db")), denied("ls "+filepath.Join(data, "runs")),
		denied("cat "+filepath.Join(data, "runs", "999", "files", "secret")),
		denied("echo changed >"+filepath.Join(data, "tools", "pnpm@9", "pnpm")),
		denied("mkdir "+filepath.Join(data, "runs", "1000")), filepath.Join(data, "tools"))
	dir := f.project(yaml)
	r := f.release(dir, "v1.0.0")
	d := f.wait(r.ID)
	log := f.log(r.ID, "build/compile")
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s\n%s", d.Status, d.Message, log)
	}
	if strings.Count(log, "denied: ") != 5 || !strings.Contains(log, "9.0.0") {
		t.Errorf("log:\n%s", log)
	}
	home := filepath.Join(data, "homes", "shop")
	if !strings.Contains(f.log(r.ID, "ship/use"), "home "+home) {
		t.Errorf("HOME: %s", f.log(r.ID, "ship/use"))
	}
	if b, err := os.ReadFile(filepath.Join(home, ".npm", "index")); err != nil || string(b) != "cached\n" {
		t.Errorf("the project's home: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(data, "runs", fmt.Sprint(r.ID), "tmp")); !os.IsNotExist(err) {
		t.Errorf("the run's TMPDIR outlived it: %v", err)
	}
}

// TestServersGitCallsAreConfined: a step can write the project's
// .git/config, and a filter driver there runs when the server asks git
// for the commit of the next release (git status reads a file whose
// stat changed through its clean filter). The server's git runs confined
// as the steps do, so that command cannot read the data dir either.
func TestServersGitCallsAreConfined(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	f, data := confinedFixture(t, func(o *Options, data string) {
		o.Env = append(os.Environ(), "HOME="+data) // a service's home: its ~/.gitconfig out of git's reach
		os.WriteFile(filepath.Join(data, ".gitconfig"), []byte("[user]\n\tname = phoenix\n"), 0o600)
	})
	dir := f.project("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: s\n      steps: [{name: ok, run: \"true\"}]\n")
	leak := filepath.Join(dir, "leak")
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("app\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("app.txt filter=plant\n"), 0o644)
	gitIn("init", "-q")
	gitIn("add", ".")
	gitIn("commit", "-q", "-m", "init")
	// What a step could write: a clean filter that copies the state out.
	gitIn("config", "filter.plant.clean", "sh -c 'cat "+filepath.Join(data, "state.db")+" > "+leak+"; cat'")
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(dir, "app.txt"), later, later)
	d := f.wait(f.release(dir, "v1.0.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
	if len(d.Commit) != 40 {
		t.Errorf("the release's commit %q: the confined git did not answer", d.Commit)
	}
	if _, err := os.Stat(leak); err != nil {
		t.Fatalf("the filter did not run (the test proves nothing): %v", err)
	}
	if b, _ := os.ReadFile(leak); bytes.Contains(b, []byte("SQLite")) {
		t.Fatalf("the server's git ran the checkout's filter with its own rights: %d bytes of state.db copied out", len(b))
	}
}

// TestArtifactOfTheDataDirRefused: a step cannot make the server build
// (and serve to the public) what the step itself may not read: a build
// output that links into the data dir, or names it, is refused.
func TestArtifactOfTheDataDirRefused(t *testing.T) {
	f, data := confinedFixture(t, func(o *Options, data string) {
		_, blobs, _ := deployService(t, t.TempDir())
		o.Deps.Blobs = blobs
	})
	for name, dist := range map[string]string{"link": "dist", "named": data} {
		t.Run(name, func(t *testing.T) {
			dir := f.project(fmt.Sprintf(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: build
      steps:
        - name: plant
          run: ln -s %s dist
        - name: artifact
          uses: create-artifact
          needs: [plant]
          with: {dir: %q}
`, data, dist))
			d := f.wait(f.release(dir, "v1.0.0").ID)
			if d.Status != Failed || !strings.Contains(d.Message+f.log(d.ID, "build/artifact"), "what the run's steps may not reach") {
				t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, "build/artifact"))
			}
		})
	}
}

// TestStepsCannotReachOtherProjects: a step of one project can neither
// read another project's folder nor write into it (a dependency planting
// something for the other project's next release); a project in the
// same repository (a monorepo's apps) stays reachable.
func TestStepsCannotReachOtherProjects(t *testing.T) {
	if _, err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	f := newFixture(t, func(o *Options) { o.Hidden = []string{filepath.Join(t.TempDir(), "data")} })
	yaml := func(name, run string) string {
		return fmt.Sprintf("project: {name: %s}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: s\n      steps: [{name: x, run: %q}]\n", name, run)
	}
	other := t.TempDir() // another team's project, in its own folder
	os.WriteFile(filepath.Join(other, "phoenix.yaml"), []byte(yaml("billing", "true")), 0o644)
	os.WriteFile(filepath.Join(other, ".env"), []byte("STRIPE_KEY=sk_live_abc"), 0o600)
	mono := t.TempDir() // a monorepo with two apps
	os.Mkdir(filepath.Join(mono, ".git"), 0o755)
	for _, app := range []string{"api", "web"} {
		os.MkdirAll(filepath.Join(mono, app), 0o755)
	}
	os.WriteFile(filepath.Join(mono, "api", "phoenix.yaml"), []byte(yaml("api", "true")), 0o644)
	os.WriteFile(filepath.Join(mono, "api", "openapi.json"), []byte("{}"), 0o644)
	for _, dir := range []string{other, filepath.Join(mono, "api")} { // registered by a release each
		if d := f.wait(f.release(dir, "v1.0.0").ID); d.Status != Succeeded {
			t.Fatalf("%s: %s", dir, d.Message)
		}
	}
	web := filepath.Join(mono, "web")
	script := fmt.Sprintf("if cat %s/.env >/dev/null 2>&1 || echo x > %s/planted 2>/dev/null; then exit 1; fi; cat %s/api/openapi.json",
		other, other, mono)
	os.WriteFile(filepath.Join(web, "phoenix.yaml"), []byte(yaml("web", script)), 0o644)
	d := f.wait(f.release(web, "v1.0.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, "s/x"))
	}
	if _, err := os.Stat(filepath.Join(other, "planted")); err == nil {
		t.Error("a step planted a file in another project's folder")
	}
}

// confinedFixture is a fixture whose steps are confined, its data dir
// (returned) hidden, edit changing the options further; the test is
// skipped where the kernel cannot confine.
func confinedFixture(t *testing.T, edit func(o *Options, data string)) (*fixture, string) {
	t.Helper()
	if _, err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	var data string
	f := newFixture(t, func(o *Options) {
		data = filepath.Dir(o.LogDir)
		o.Hidden = []string{data}
		if edit != nil {
			edit(o, data)
		}
	})
	return f, data
}
