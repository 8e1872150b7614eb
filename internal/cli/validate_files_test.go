package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → body under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestValidateWarnsOfRewritesToMissingFiles: 'phoenix validate DIR' said
// "ok" of a folder whose navigationFallback named /indx.html for
// /index.html, and every deep link of the site was a 404. It warns (exit
// 0) of each rewrite to a file the folder lacks, naming the file, line,
// field and path; a folder holding every target gets no warning.
func TestValidateWarnsOfRewritesToMissingFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.html": "app", "about.html": "about",
		"staticwebapp.config.json": `{"navigationFallback": {"rewrite": "/indx.html"},
 "routes": [{"route": "/old", "rewrite": "/gone.html"}, {"route": "/us", "rewrite": "/about"}],
 "responseOverrides": {"404": {"rewrite": "/404.html"}}}`})
	out, errs, code := run("validate", dir)
	if code != 0 {
		t.Fatalf("exit %d, want 0 (warnings only): %s%s", code, out, errs)
	}
	cfg := filepath.Join(dir, "staticwebapp.config.json")
	for _, want := range []string{
		cfg + ":1:36: navigationFallback.rewrite: /indx.html is no file of the site; Azure accepts such a config, and then every path with no file of its own",
		cfg + ":2:42: routes[0].rewrite: /gone.html is no file of the site",
		cfg + `:3:43: responseOverrides["404"].rewrite: /404.html is no file of the site`,
		cfg + ": ok, 3 warning(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant %q", out, want)
		}
	}
	writeFiles(t, dir, map[string]string{"404.html": "nf", "gone.html": "g",
		"staticwebapp.config.json": `{"navigationFallback": {"rewrite": "/index.html"},
 "routes": [{"route": "/old", "rewrite": "/gone.html"}, {"route": "/us", "rewrite": "/about"}],
 "responseOverrides": {"404": {"rewrite": "/404.html"}}}`})
	if out, errs, code := run("validate", dir); code != 0 || !strings.HasSuffix(out, cfg+": ok\n") {
		t.Errorf("a folder holding every target: exit %d\n%s%s", code, out, errs)
	}
}

// TestValidateLeavesSourceFoldersConfigAlone: a config in public/ (copied
// into the build output) or beside a package.json (a source folder the
// build writes the site out of) names files the build makes: no warning.
func TestValidateLeavesSourceFoldersConfigAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fallback := `{"navigationFallback": {"rewrite": "/index.html"}}`
	writeFiles(t, dir, map[string]string{"package.json": "{}", "staticwebapp.config.json": fallback,
		"public/staticwebapp.config.json": fallback})
	out, errs, code := run("validate", dir)
	if code != 0 || strings.Contains(out, "no file of the site") || strings.Contains(out, "warning(s)") {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}
}

// TestDeployWarnsOfRewritesToMissingFiles: 'phoenix deploy DIR' of such a
// folder deployed it ("verified": the health check asks for /) and said
// nothing; it still deploys, with the warning on stderr.
func TestDeployWarnsOfRewritesToMissingFiles(t *testing.T) {
	t.Parallel()
	data, dir := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"phoenix.yaml": "project: {name: shop}\nenvironments:\n  staging: {}\n",
		"d/index.html": "app", "d/staticwebapp.config.json": `{"navigationFallback": {"rewrite": "/indx.html"}}`})
	out, errs, code := runVault(t, "", "deploy", filepath.Join(dir, "d"), "--env", "staging", "--data", data,
		"-c", filepath.Join(dir, "phoenix.yaml"))
	want := "warning: " + filepath.Join(dir, "d", "staticwebapp.config.json") + ":1:36: navigationFallback.rewrite: /indx.html is no file of the site"
	if code != 0 || !strings.Contains(errs, want) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s\nwant %q", code, out, errs, want)
	}
}
