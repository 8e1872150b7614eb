package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A step's env:NAME reads the environment steps start from: the server's
// own credentials, which that environment leaves out (the app's childEnv),
// are refused by name, never handed over.
func TestEnvRefCannotReadWhatStepsDoNotInherit(t *testing.T) {
	const key = "backup-key-Qx81-never-passed"
	t.Setenv("PHX_TEST_SERVER_KEY", key)
	t.Setenv("PHX_TEST_PUBLIC", "visible-value")
	f := newFixture(t, func(o *Options) {
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PHX_TEST_SERVER_KEY=") {
				o.Env = append(o.Env, kv)
			}
		}
	})
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - name: public
          env: {P: "env:PHX_TEST_PUBLIC"}
          run: test "$P" = visible-value
        - name: steal
          needs: [public]
          env: {K: "env:PHX_TEST_SERVER_KEY"}
          run: printf '%s' "$K" | rev
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	if s := stepOf(d, "main/public"); s.Status != Succeeded {
		t.Fatalf("env:NAME of an inherited variable: %s (%s)", s.Status, s.Error)
	}
	s := stepOf(d, "main/steal")
	if s.Status != Failed || !strings.Contains(s.Error, "PHX_TEST_SERVER_KEY is the server's own and is not passed to steps") {
		t.Fatalf("env:NAME of a variable steps do not inherit: %s (%s)", s.Status, s.Error)
	}
	if all := f.log(d.ID, ""); strings.Contains(all, "dessap-reven") {
		t.Fatalf("the server's credential reached the step:\n%s", all)
	}
}

// secret:NAME and env:NAME in build.env, tests.SUITE.env and an
// environment's env are resolved as in a step's env (they reached the
// build, the tests and the steps as the literal text "secret:NAME").
func TestSecretRefsInBuildTestsAndEnvironmentEnv(t *testing.T) {
	const secret = "pr0d-t0ken-Zx9!"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	t.Setenv("PHX_TEST_EXPECT", secret)
	f := newFixture(t, nil)
	dir := f.nodeProject(`
project: {name: shop}
build:
  command: 'test "$API" = "$EXPECT" && mkdir -p out && echo hi > out/index.html'
  output: out
  env: {API: "secret:DEPLOY_TOKEN", EXPECT: "env:PHX_TEST_EXPECT"}
tests:
  unit:
    command: 'echo "unit sees $T"; test "$T" = "$PHX_TEST_EXPECT"'
    env: {T: "secret:DEPLOY_TOKEN"}
environments:
  production:
    env: {E: "secret:DEPLOY_TOKEN"}
pipeline:
  stages:
    - name: main
      steps:
        - {name: build, uses: build}
    - name: check
      steps:
        - {name: unit, uses: test, with: {suite: unit}}
    - name: ship
      environment: production
      steps:
        - {name: env, run: 'test "$E" = "$PHX_TEST_EXPECT"'}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	all := f.log(d.ID, "")
	for _, id := range []string{"main/build", "check/unit", "ship/env"} {
		if s := stepOf(d, id); s.Status != Succeeded {
			t.Errorf("%s: %s (%s)\n%s", id, s.Status, s.Error, all)
		}
	}
	if strings.Contains(all, secret) || !strings.Contains(all, "unit sees ***") {
		t.Errorf("the secret is not masked:\n%s", all)
	}
}

// A build that writes a build.env secret into its output (a bundler
// inlining VITE_API_KEY) fails check/secrets, though no rule knows the
// value's shape: the run knows its own secrets. The log never shows it.
func TestCheckSecretsFindsTheRunsOwnSecretsInTheBuildOutput(t *testing.T) {
	const secret = "plain-words-deploy-key-7"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	f := newFixture(t, nil)
	dir := f.nodeProject(`
project: {name: shop}
build:
  command: 'mkdir -p out && echo "<h1>hi</h1>" > out/index.html && printf "const k=\"%s\";\n" "$API" > out/app.js'
  output: out
  env: {API: "secret:DEPLOY_TOKEN"}
environments: {staging: {}}
pipeline:
  stages:
    - name: main
      steps:
        - {name: build, uses: build}
        - {name: secrets, uses: check/secrets}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	all := f.log(d.ID, "")
	s := stepOf(d, "main/secrets")
	if s.Status != Failed || !strings.Contains(all, "run-secret at out/app.js:1") {
		t.Fatalf("check/secrets: %s (%s)\n%s", s.Status, s.Error, all)
	}
	if strings.Contains(all, secret) {
		t.Fatalf("the secret is in the log:\n%s", all)
	}
}

// A step that writes a secret into $PHOENIX_OUTPUT: the output is not
// kept (it was stored in plaintext in pipeline_steps and in the run's
// folder, and shown by 'phoenix runs'), the log says so, and the other
// outputs are.
func TestOutputsHoldingASecretAreNotKept(t *testing.T) {
	const secret = "pr0d-t0ken-Zx9!-output"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      secrets: [DEPLOY_TOKEN]
      steps:
        - name: out
          run: 'printf "TOKEN=%s\nPLAIN=hello\n" "$DEPLOY_TOKEN" >> "$PHOENIX_OUTPUT"'
        - name: use
          needs: [out]
          run: 'echo "token=[${{ steps.main/out.outputs.TOKEN }}] plain=[${{ steps.main/out.outputs.PLAIN }}]"'
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	all := f.log(d.ID, "")
	if d.Status != Succeeded || !strings.Contains(all, "output TOKEN holds a secret: not kept") || !strings.Contains(all, "token=[] plain=[hello]") {
		t.Fatalf("run %s:\n%s", d.Status, all)
	}
	f.notOnDisk(secret)
}

// nodeProject is project with a package.json, so the build action runs
// build.command.
func (f *fixture) nodeProject(yaml string) string {
	f.t.Helper()
	dir := f.project(yaml)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "shop"}`), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return dir
}
