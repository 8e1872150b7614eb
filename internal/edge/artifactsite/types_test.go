package artifactsite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// TestFolderAndDeploymentServeTheSameTypes: phoenix serve DIR and the
// deployment of DIR's artifact answer every file with the same
// Content-Type. The edge's folder table lacked types the build records
// (.rss, .jsonld, .ics, .yaml) and sent application/octet-stream for a
// file without an extension, which the build sniffs (a LICENSE, an
// extension-less HTML page).
func TestFolderAndDeploymentServeTheSameTypes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": "<p>home</p>", "feed.rss": "<?xml version=\"1.0\"?><rss/>",
		"data.jsonld": `{"@context":"https://schema.org"}`, "event.ics": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
		"openapi.yaml": "openapi: 3.1.0\n", "LICENSE": "MIT License\n", "about": "<!DOCTYPE html><p>about</p>",
		"assets/app-3f9a1c2e.js": "export{}", "blob.unknownext": "\x00\x01\x02binary",
	}
	for p, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	store, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifact.Build(ctx, dir, store, artifact.BuildOptions{Meta: artifact.Meta{Project: "site", Release: "v1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := New(ctx, "1:test", m, store)
	if err != nil {
		t.Fatal(err)
	}
	folder, err := edge.NewDirSite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer folder.Close()
	for p := range files {
		d, f := deployed.Lookup("/"+p), folder.Lookup("/"+p)
		if d == nil || f == nil {
			t.Fatalf("/%s: deployed %v, folder %v", p, d != nil, f != nil)
		}
		if d.ContentType != f.ContentType {
			t.Errorf("/%s: deployment serves %q, the folder %q", p, d.ContentType, f.ContentType)
		}
	}
}
