package swa

import "testing"

// TestFolderWildcardMatchesTheBareFolderOnlyWithItsDocument: "/admin/*"
// matched "/admin" always, through "/admin/index.html", so an SPA whose
// config guards "/admin/*" (for an admin folder or the API behind it)
// answered its deep link /admin with the login redirect where the cloud,
// whose "/admin/*" does not match "/admin", serves the app through the
// fallback. It matches "/admin" only when the release holds
// "/admin/index.html", the file "/admin" is then served: guarded.
func TestFolderWildcardMatchesTheBareFolderOnlyWithItsDocument(t *testing.T) {
	cfg, err := Parse([]byte(`{"navigationFallback": {"rewrite": "/index.html"},
		"routes": [{"route": "/admin/*", "allowedRoles": ["admin"]}]}`), "staticwebapp.config.json")
	if err != nil {
		t.Fatal(err)
	}
	spa := files{"/index.html": true}
	withFolder := files{"/index.html": true, "/admin/index.html": true}
	for _, c := range []struct {
		name   string
		fs     files
		path   string
		status int
		file   string
	}{
		{"spa deep link", spa, "/admin", 200, "/index.html"},
		{"spa deep link below", spa, "/admin/users", 401, ""},
		{"spa folder slash", spa, "/admin/", 401, ""},
		{"folder bare", withFolder, "/admin", 401, ""},
		{"folder slash", withFolder, "/admin/", 401, ""},
		{"folder upper case: the file lookup is case-sensitive, the app is served", withFolder, "/ADMIN", 200, "/index.html"},
	} {
		d := cfg.Decide(&Request{Method: "GET", Path: c.path}, c.fs)
		if d.Status != c.status || c.file != "" && d.File != c.file {
			t.Errorf("%s: GET %s = %d %q, want %d %q", c.name, c.path, d.Status, d.File, c.status, c.file)
		}
	}
}
