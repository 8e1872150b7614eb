package action

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestCreateArtifactCopiesAStaticFolder: a folder of static files is the
// user's own: its artifact copies the files (they stay writable, with no
// second link into the store) and leaves out phoenix.yaml and .git, while
// a build's output is still hard-linked.
func TestCreateArtifactCopiesAStaticFolder(t *testing.T) {
	_, blobs := holdFixture(t)
	proj := t.TempDir()
	write(t, proj, map[string]string{"index.html": "<h1>static</h1>", "phoenix.yaml": "version: 1\n", ".git/config": "[core]\n"})
	env := []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
	sc, log, outs := newContext(t, proj, config.Default(), env)
	d := &Deps{Blobs: blobs, ToolsDir: t.TempDir()}
	if err := d.build(context.Background(), sc); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	outs["build.dir"], outs["build.built"] = outs["dir"], outs["built"] // as the engine hands them on
	if err := d.createArtifact(context.Background(), sc); err != nil {
		t.Fatalf("create-artifact: %v\n%s", err, log)
	}
	if outs["files"] != "1" {
		t.Errorf("the artifact has %s files, want index.html alone:\n%s", outs["files"], log)
	}
	if n := links(t, filepath.Join(proj, "index.html")); n != 1 {
		t.Errorf("index.html has %d links after the artifact, want 1 (copied)", n)
	}

	built := t.TempDir()
	write(t, built, map[string]string{"dist/index.html": "<h1>built</h1>"})
	sc, _, outs = newContext(t, built, config.Default(), env)
	outs["build.dir"], outs["build.built"] = filepath.Join(built, "dist"), "true"
	if err := d.createArtifact(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if n := links(t, filepath.Join(built, "dist", "index.html")); n != 2 {
		t.Errorf("a build's output has %d links after the artifact, want 2 (hard-linked)", n)
	}
}

// links is the hard-link count of the file at p.
func links(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Nlink)
}
