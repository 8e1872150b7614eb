package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactBuildJSONWarnings: a build without warnings lists them as
// [] in -o json, not null.
func TestArtifactBuildJSONWarnings(t *testing.T) {
	dir := t.TempDir()
	site := writeOnePageSite(t, dir)
	t.Setenv("PHOENIX_DATA", filepath.Join(dir, "data"))
	var out, errb bytes.Buffer
	code := Main([]string{"artifact", "build", site, "--out", filepath.Join(dir, "a.tar"), "-o", "json"}, nil, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), `"warnings": []`) {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}

// writeOnePageSite writes a site of one index.html under dir/site and
// returns its folder.
func writeOnePageSite(t *testing.T, dir string) string {
	t.Helper()
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<!doctype html><p>hi</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return site
}
