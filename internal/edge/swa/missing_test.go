package swa

import (
	"strings"
	"testing"
)

// files is a FileSystem of the listed paths.
type files map[string]bool

func (f files) Exists(p string) bool { return f[p] }

func TestMissingFilesNamesFieldAndPath(t *testing.T) {
	cfg, err := Parse([]byte(`{
  "navigationFallback": {"rewrite": "/indx.html"},
  "routes": [
    {"route": "/old", "rewrite": "/gone.html"},
    {"route": "/blocked", "rewrite": "/nothing.html", "statusCode": 404},
    {"route": "/about", "rewrite": "/about"},
    {"route": "/fn", "rewrite": "/api/fn"}
  ],
  "responseOverrides": {"404": {"rewrite": "/404.html"}, "401": {"rewrite": "/docs/"}}
}`), "staticwebapp.config.json")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.MissingFiles(files{"/index.html": true, "/about.html": true, "/docs/index.html": true})
	want := []string{
		"staticwebapp.config.json:2:37: navigationFallback.rewrite: /indx.html is no file of the site",
		"staticwebapp.config.json:4:34: routes[0].rewrite: /gone.html is no file of the site",
		`staticwebapp.config.json:9:44: responseOverrides["404"].rewrite: /404.html is no file of the site`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d warnings, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].String(), w) {
			t.Errorf("warning %d = %q, want it to start %q", i, got[i], w)
		}
	}
	if !strings.Contains(got[0].Msg, "404") || !strings.Contains(got[0].Msg, "Azure accepts") {
		t.Errorf("the fallback's warning does not say what the site answers: %q", got[0].Msg)
	}
}

func TestMissingFilesQuietWhenPresent(t *testing.T) {
	cfg, err := Parse([]byte(`{"navigationFallback": {"rewrite": "/app/"},
  "routes": [{"route": "/x", "rewrite": "/page"}],
  "responseOverrides": {"404": {"rewrite": "/404.html", "statusCode": 200}}}`), "c.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.MissingFiles(files{"/app/index.html": true, "/page.html": true, "/404.html": true}); len(got) != 0 {
		t.Errorf("warnings for a site holding every target: %v", got)
	}
	if got := Default().MissingFiles(files{}); len(got) != 0 {
		t.Errorf("warnings for the default config: %v", got)
	}
}

// TestMissingFilesConfigFileIsNoTarget: a rewrite to a config file is
// warned of even where the folder holds one, as the edge never serves it.
func TestMissingFilesConfigFileIsNoTarget(t *testing.T) {
	cfg, err := Parse([]byte(`{"routes": [{"route": "/x", "rewrite": "/sub/staticwebapp.config.json"}]}`), "c.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.MissingFiles(files{"/sub/staticwebapp.config.json": true}); len(got) != 1 {
		t.Errorf("got %v, want one warning", got)
	}
}
