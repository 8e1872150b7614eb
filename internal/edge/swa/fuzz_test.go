package swa

import (
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and an accepted config always decides.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "sites", "*", FileName))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{`{}`, `[]`, `{"routes":[{"route":"/a/*/b"}]}`, `{"routes":[{"route":"*"}]}`,
		`{"responseOverrides":{"404":{"rewrite":"x"}}}`, `{"auth":{"identityProviders":{"customOpenIdConnectProviders":{"x":{}}}}}`,
		"{\"a\":\n[1,2", `{"routes":[{"route":"/x/*.{a,b}","methods":["GET"],"statusCode":418,"rewrite":"/y"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range []string{"/", "/a", "/a/", "/x/y.b", "/.auth/login/x", "/api/x"} {
			d := c.Decide(&Request{Method: "GET", Path: p, Roles: []string{"anonymous"}, Header: http.Header{}}, memFS{"/index.html": true})
			if d.Status < 100 || d.Status > 599 {
				t.Fatalf("Decide(%q) status %d", p, d.Status)
			}
		}
	})
}

// FuzzPattern: compiling never panics, and a compiled pattern's match with
// a virtual suffix agrees with matching the concatenated string.
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{{"/calendar*", "/calendar/2020"}, {"/images/*.{png,jpg}", "/images/a/B.PNG"},
		{"*.css", "/x.css"}, {"/a/index.html", "/a"}, {"/*", "/"}, {"assets/*", "/assets/x"}, {"/x/*.html", "/x/"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, path string) {
		p, err := compilePattern(pat)
		if err != nil {
			return
		}
		for i := 0; i <= len(path); i++ {
			if p.match(path[:i], path[i:]) != p.match(path, "") {
				t.Fatalf("%q: split match at %d of %q disagrees", pat, i, path)
			}
		}
		if !p.wild && !p.match(p.lit, "") {
			t.Fatalf("exact %q does not match itself", pat)
		}
		if p.wild && p.exts == nil && !p.match(p.lit+path, "") {
			t.Fatalf("%q does not match %q", pat, p.lit+path)
		}
		if p.wild && p.exts != nil && !p.match(p.lit+path+strings.ToUpper(p.exts[0]), "") {
			t.Fatalf("%q does not match its own extension", pat)
		}
	})
}

// FuzzDecide: any request against the example site gets a sane Decision.
func FuzzDecide(f *testing.F) {
	cfg, files := loadSite(f, "example")
	for _, s := range []string{"/", "/calendar/x", "/profile/", "/admin", "/images/x.png", "/a/b/c", "/.auth/me", "/api/x", "/%", ""} {
		f.Add("GET", s, "", true)
		f.Add("POST", s, "a=1", false)
	}
	f.Fuzz(func(t *testing.T, method, path, query string, signedIn bool) {
		roles := []string{"anonymous"}
		if signedIn {
			roles = append(roles, "authenticated")
		}
		r := &Request{Method: method, Path: path, RawQuery: query, Roles: roles, Header: http.Header{}, ClientIP: netip.MustParseAddr("10.0.0.1")}
		d := cfg.Decide(r, files)
		switch {
		case d.Status < 100 || d.Status > 599:
			t.Fatalf("status %d", d.Status)
		case d.Status >= 300 && d.Status < 400 && d.Location == "":
			t.Fatalf("redirect %d without Location: %+v", d.Status, d)
		case d.File != "" && !files[d.File]:
			t.Fatalf("decision names a missing file: %+v", d)
		case d.File == FileName || strings.HasSuffix(d.File, "/"+FileName):
			t.Fatalf("decision serves the config file: %+v", d)
		}
	})
}
