package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateListsEveryProblemWithPositions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte("version: 1\nprojekt:\n  name: x\nenvironments:\n  prod:\n    protection:\n      approvals: two\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "staticwebapp.config.json"), []byte("{\n  \"routes\": [\n    {\"route\": \"/a/*/b\", \"rewrite\": \"/x.html\"}\n  ]\n}\n"), 0o644)
	r := run(t, dir, nil, "validate")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"phoenix.yaml:2:1: projekt", "did you mean project", "phoenix.yaml:7:18: environments.prod.protection.approvals",
		"staticwebapp.config.json:3:", "routes[0].route"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestInitInAViteProjectWritesAValidFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"package.json":                    `{"name":"my-shop","private":true,"scripts":{"dev":"vite","build":"vite build","test":"vitest run"},"devDependencies":{"vite":"^7.0.0"}}`,
		"package-lock.json":               `{"name":"my-shop","lockfileVersion":3,"requires":true,"packages":{"":{"name":"my-shop"}}}`,
		"vite.config.ts":                  "export default { build: { outDir: 'dist' } }\n",
		"index.html":                      "<!doctype html><div id=root></div>",
		"public/staticwebapp.config.json": `{"navigationFallback":{"rewrite":"/index.html"}}`,
	}
	for p, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
	}
	r := run(t, dir, nil, "init")
	if r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if !strings.Contains(r.stdout, "npm") || !strings.Contains(r.stdout, "dist") ||
		!strings.Contains(r.stdout, "next: phoenix validate, then phoenix release v0.1.0 --env staging") ||
		!strings.Contains(r.stdout, "phoenix advisories import") {
		t.Errorf("init summary:\n%s", r.stdout)
	}
	if r := run(t, dir, nil, "validate"); r.code != 0 {
		t.Fatalf("validate after init: %+v", r)
	}
	if r := run(t, dir, nil, "init"); r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("second init must refuse to overwrite: %+v", r)
	}
}

// TestInitAndReleaseAStaticFolder: in a folder of static files (no
// package.json) init writes a phoenix.yaml that validates and releases as
// it is: no package manager runs, the gates that need a lockfile are off,
// and the site, without phoenix.yaml, is served from the folder, whose files
// stay the user's (writable, copied rather than linked into the store). A
// folder with nothing to deploy is refused, saying what init looks for.
func TestInitAndReleaseAStaticFolder(t *testing.T) {
	work := t.TempDir()
	site := filepath.Join(work, "pages")
	writeFiles(t, site, map[string]string{"index.html": "<h1>static-e2e</h1>", "about/index.html": "<h1>about</h1>"})
	r := run(t, site, nil, "init")
	if r.code != 0 || !strings.Contains(r.stdout, "static files") || !strings.Contains(r.stdout, "next: phoenix validate, then phoenix release v0.1.0 --env staging") {
		t.Fatalf("init: %+v", r)
	}
	if r := run(t, site, nil, "validate"); r.code != 0 {
		t.Fatalf("validate after init: %+v", r)
	}
	// -o json names its fields as every other command does.
	r = run(t, site, nil, "init", "--force", "-o", "json")
	var det map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &det); err != nil || det["name"] != "pages" || det["framework"] != "static" || det["output"] != "." {
		t.Errorf("init -o json: %v: %+v", err, r)
	}
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	r = run(t, site, []string{"PHOENIX_DATA=" + data}, "release", "v0.1.0", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, "run 1 succeeded") {
		t.Fatalf("release: %+v", r)
	}
	if code, body := s.get(t, "staging.pages.localhost", "/about/"); code != 200 || !strings.Contains(body, "about") {
		t.Errorf("/about/ served %d %q", code, body)
	}
	if code, _ := s.get(t, "staging.pages.localhost", "/phoenix.yaml"); code != 404 {
		t.Errorf("/phoenix.yaml served %d, want 404: the project file is not part of the site", code)
	}
	if fi, err := os.Stat(filepath.Join(site, "index.html")); err != nil || fi.Mode().Perm()&0o200 == 0 {
		t.Errorf("index.html after the release: %v, %v; want it writable", fi.Mode(), err)
	}

	empty := filepath.Join(work, "empty")
	writeFiles(t, empty, map[string]string{"notes.txt": "hello"})
	if r := run(t, empty, nil, "init"); r.code != 2 || !strings.Contains(r.stderr, "index.html") {
		t.Fatalf("init in a folder without a site: %+v", r)
	}
}

// writeFiles writes files (slash paths relative to dir, with their bodies).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		p = filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInitInAWorkspaceListsCandidates(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"package.json":             `{"name":"mono","private":true}`,
		"pnpm-workspace.yaml":      "packages:\n  - apps/*\n  - packages/*\n",
		"pnpm-lock.yaml":           "lockfileVersion: '9.0'\n",
		"apps/web/package.json":    `{"name":"web","scripts":{"build":"vite build"},"devDependencies":{"vite":"^7"}}`,
		"packages/ui/package.json": `{"name":"ui","scripts":{"build":"tsc"}}`,
	}
	for p, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
	}
	r := run(t, dir, nil, "init")
	if r.code != 2 || !strings.Contains(r.stderr, "apps/web") || !strings.Contains(r.stderr, "--app") {
		t.Fatalf("init in a workspace: %+v", r)
	}
	if r := run(t, dir, nil, "init", "--app", "apps/web"); r.code != 0 {
		t.Fatalf("init --app: %+v", r)
	}
	if r := run(t, dir, nil, "validate"); r.code != 0 {
		t.Fatalf("validate: %+v", r)
	}
}

func TestArtifactBuildVerifyAndDeployFile(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	site := filepath.Join(work, "site")
	writeSite(t, site, "from-a-file")
	env := []string{"PHOENIX_DATA=" + data}
	art := filepath.Join(work, "site.tar")
	if r := run(t, work, env, "artifact", "build", site, "--out", art, "--release", "v9"); r.code != 0 {
		t.Fatalf("artifact build: %+v", r)
	}
	r := run(t, work, env, "artifact", "verify", art, "-o", "json")
	var v struct{ OK bool }
	json.Unmarshal([]byte(r.stdout), &v)
	if r.code != 0 || !v.OK {
		t.Fatalf("verify: %+v", r)
	}
	s := startServer(t, data)
	if r := run(t, work, env, "deploy", art, "--env", "staging", "--project", "files"); r.code != 1 || !strings.Contains(r.stderr, "no environment") {
		t.Fatalf("deploy to an undeclared environment must fail clearly: %+v", r)
	}
	s.client(t).put(t, "/api/v1/projects/files/environments/staging", `{}`)
	if r := run(t, work, env, "deploy", art, "--env", "staging", "--project", "files"); r.code != 0 {
		t.Fatalf("deploy file: %+v", r)
	}
	if code, body := s.get(t, "staging.files.localhost", "/"); code != 200 || !strings.Contains(body, "from-a-file") {
		t.Fatalf("served %d %q", code, body)
	}
	// A tampered artifact is refused and nothing changes.
	b, _ := os.ReadFile(art)
	i := strings.Index(string(b), "from-a-file")
	b[i] = 'F'
	os.WriteFile(art, b, 0o644)
	if r := run(t, work, env, "artifact", "verify", art); r.code != 1 {
		t.Fatalf("verify tampered: %+v", r)
	}
	if r := run(t, work, env, "deploy", art, "--env", "staging", "--project", "files"); r.code != 1 {
		t.Fatalf("deploy tampered: %+v", r)
	}
}

// TestArtifactBuildIsReproducible: with SOURCE_DATE_EPOCH the same folder
// builds to the same manifest digest and the same artifact bytes; a bad
// value is a usage error naming the variable.
func TestArtifactBuildIsReproducible(t *testing.T) {
	work := t.TempDir()
	site := filepath.Join(work, "site")
	writeSite(t, site, "same")
	env := []string{"PHOENIX_DATA=" + filepath.Join(work, "data"), "SOURCE_DATE_EPOCH=1764158400"}
	var digests []string
	var files [][]byte
	for _, name := range []string{"a.tar", "b.tar"} {
		art := filepath.Join(work, name)
		r := run(t, work, env, "artifact", "build", site, "--out", art, "--release", "v1", "-o", "json")
		var out struct{ Manifest string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Manifest == "" {
			t.Fatalf("artifact build: %+v", r)
		}
		b, err := os.ReadFile(art)
		if err != nil {
			t.Fatal(err)
		}
		digests, files = append(digests, out.Manifest), append(files, b)
	}
	if digests[0] != digests[1] || !bytes.Equal(files[0], files[1]) {
		t.Fatalf("two builds differ: %v", digests)
	}
	bad := []string{"PHOENIX_DATA=" + filepath.Join(work, "data"), "SOURCE_DATE_EPOCH=last tuesday"}
	r := run(t, work, bad, "artifact", "build", site, "--out", filepath.Join(work, "c.tar"))
	if r.code != 2 || !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") {
		t.Fatalf("a bad SOURCE_DATE_EPOCH must be a usage error naming it: %+v", r)
	}
}
