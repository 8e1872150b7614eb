package edge

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// TestServeDirWarnsOfAFallbackToAMissingFile: 'phoenix serve' of a folder
// whose navigationFallback names a file it lacks (/indx.html for
// /index.html) served a 404 for every deep link and said nothing. It
// warns once, naming the file, field and path, and still serves.
func TestServeDirWarnsOfAFallbackToAMissingFile(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.html": "app",
		swa.FileName: `{"navigationFallback": {"rewrite": "/indx.html"}}`})
	var warned []string
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startServeDir(t, ctx, dir, ServeOptions{Warn: func(p swa.Problem) { warned = append(warned, p.String()) }})
	resp, err := http.Get("http://" + addr + "/deep/link")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cancel()
	<-done
	want := filepath.Join(dir, swa.FileName) + ":1:36: navigationFallback.rewrite: /indx.html is no file of the site"
	if len(warned) != 1 || !strings.HasPrefix(warned[0], want) {
		t.Fatalf("warnings %q, want one starting %q", warned, want)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("deep link: %d, want the 404 the warning announces", resp.StatusCode)
	}
}

// TestFolderWarnings: a folder is looked up as the edge serves it: a
// folder's index.html and page.html count, a symlink, the config file
// itself and a path out of the folder do not.
func TestFolderWarnings(t *testing.T) {
	dir := writeTree(t, map[string]string{"docs/index.html": "d", "about.html": "a", "secret.txt": "s"})
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(dir, "link.html")); err != nil {
		t.Fatal(err)
	}
	cfg, err := swa.Parse([]byte(`{"routes": [
 {"route": "/a", "rewrite": "/docs/"}, {"route": "/b", "rewrite": "/about"},
 {"route": "/c", "rewrite": "/link.html"}, {"route": "/d", "rewrite": "/staticwebapp.config.json"},
 {"route": "/e", "rewrite": "/../secret.txt"}]}`), swa.FileName)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := FolderWarnings(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	if got := strings.Join(fields, " "); got != "routes[2].rewrite routes[3].rewrite routes[4].rewrite" {
		t.Errorf("warned of %q, want routes 2, 3 and 4", got)
	}
	if _, err := FolderWarnings(cfg, filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing folder gave no error")
	}
}
