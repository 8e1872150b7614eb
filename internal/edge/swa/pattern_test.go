package swa

import (
	"net/http"
	"reflect"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pat string
		yes []string
		no  []string
	}{
		{"/calendar*", []string{"/calendar", "/calendar.html", "/calendar/2020/01", "/calendars", "/CALENDAR/x"}, []string{"/cal", "/x/calendar"}},
		{"/calendar/*", []string{"/calendar/x", "/calendar/a/b", "/calendar/"}, []string{"/calendar", "/calendar.html"}},
		{"/articles/*.html", []string{"/articles/a.html", "/articles/x/y.HTML"}, []string{"/articles/a.htm", "/articles.html"}},
		{"/images/thumbnails/*.{png,jpg,gif}", []string{"/images/thumbnails/a.png", "/images/thumbnails/b.JPG", "/images/thumbnails/x/c.gif"}, []string{"/images/thumbnails/a.svg", "/images/a.png"}},
		{"/*", []string{"/", "/a", "/a/b.c"}, nil},
		{"*", []string{"/", "/a"}, nil},
		{"*.{css,js}", []string{"/a.css", "/x/y/z.JS"}, []string{"/a.cs", "/css"}},
		{"assets/*", []string{"/assets/a.js"}, []string{"/assets"}},
		{"/About", []string{"/about", "/ABOUT"}, []string{"/about/", "/about.html"}},
		{"/Build/*.js.gz", []string{"/Build/app.js.gz", "/build/x/y.JS.GZ"}, []string{"/Build/app.js", "/Build/app.gz", "/Build/appjs.gz"}},
		{"/Build/*.{data.gz,wasm.br}", []string{"/Build/a.data.gz", "/Build/b.wasm.br"}, []string{"/Build/a.wasm.gz"}},
	}
	for _, tt := range tests {
		t.Run(tt.pat, func(t *testing.T) {
			p, err := compilePattern(tt.pat)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.yes {
				if !p.match(s, "") {
					t.Errorf("%q should match %q", tt.pat, s)
				}
			}
			for _, s := range tt.no {
				if p.match(s, "") {
					t.Errorf("%q should not match %q", tt.pat, s)
				}
			}
		})
	}
}

func TestDecideDetails(t *testing.T) {
	files := memFS{"/index.html": true, "/a.html": true}
	get := func(p string) *Request {
		return &Request{Method: "GET", Path: p, Header: http.Header{}, Roles: []string{"anonymous"}}
	}
	mustParse := func(s string) *Config {
		c, err := Parse([]byte(s), "t.json")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  *Config
		req  *Request
		want Decision
	}{
		{"zero config serves index", &Config{}, get("/"), Decision{Status: 200, File: "/index.html", Route: -1, Reason: ReasonFile}},
		{"default 404 has no page", Default(), get("/x"), Decision{Status: 404, Route: -1, Reason: ReasonNotFound}},
		{"307 honoured", mustParse(`{"routes":[{"route":"/r","redirect":"/a.html","statusCode":307}]}`), get("/r"),
			Decision{Status: 307, Location: "/a.html", Route: 0, Reason: ReasonRedirect}},
		{"loop guard skips own target", mustParse(`{"routes":[{"route":"/a.html","redirect":"/a.html"}]}`), get("/a.html"),
			Decision{Status: 200, File: "/a.html", Route: -1, Reason: ReasonFile}},
		{"rewrite to api keeps query", mustParse(`{"routes":[{"route":"/ssr/*","rewrite":"/api/render?mode=full"}]}`), get("/ssr/x"),
			Decision{Status: 200, APIPath: "/api/render?mode=full", Route: 0, Reason: ReasonAPI}},
		{"fallback to api", mustParse(`{"navigationFallback":{"rewrite":"/api/ssr"}}`), get("/deep/link"),
			Decision{Status: 200, APIPath: "/api/ssr", Route: -1, Reason: ReasonAPI}},
		{"fallback target missing", mustParse(`{"navigationFallback":{"rewrite":"/shell.html"}}`), get("/deep"),
			Decision{Status: 404, Route: -1, Reason: ReasonNotFound}},
		{"override status only", mustParse(`{"responseOverrides":{"404":{"statusCode":410}}}`), get("/gone"),
			Decision{Status: 410, Route: -1, Reason: ReasonNotFound}},
		{"override spa pattern", mustParse(`{"responseOverrides":{"404":{"rewrite":"/index.html","statusCode":200}}}`), get("/gone"),
			Decision{Status: 200, File: "/index.html", Route: -1, Reason: ReasonNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.cfg.Decide(tt.req, files)
			d.Header = nil
			if !reflect.DeepEqual(d, tt.want) {
				t.Fatalf("got %+v, want %+v", d, tt.want)
			}
		})
	}
}

func TestHeadersLayering(t *testing.T) {
	c, err := Parse([]byte(`{"globalHeaders":{"cache-control":"g","X-A":"global","X-B":"b"},
	  "routes":[{"route":"/r/*","headers":{"x-a":"route","X-B":""}}]}`), "h.json")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Decide(&Request{Method: "GET", Path: "/r/index.html", Header: http.Header{}}, memFS{"/r/index.html": true})
	want := map[string]string{"Cache-Control": "g", "X-A": "route", "X-B": ""}
	for k, v := range want {
		if vs, ok := d.Header[k]; !ok || vs[0] != v {
			t.Errorf("header %s = %v, want %q", k, vs, v)
		}
	}
	// The headers the edge writes itself are left out (and warned about).
	c, err = Parse([]byte(`{"globalHeaders":{"Transfer-Encoding":"chunked","X-A":"global"},
	  "routes":[{"route":"/r/*","headers":{"connection":"close","content-length":"1"}}]}`), "h.json")
	if err != nil || len(c.Warnings()) != 3 {
		t.Fatalf("Parse: %v, warnings %v", err, c.Warnings())
	}
	d = c.Decide(&Request{Method: "GET", Path: "/r/index.html", Header: http.Header{}}, memFS{"/r/index.html": true})
	if d.Header.Get("X-A") != "global" || len(d.Header["Transfer-Encoding"])+len(d.Header["Connection"])+len(d.Header["Content-Length"]) != 0 {
		t.Errorf("headers %v: want X-A and none of the edge's own", d.Header)
	}
}

// TestExtensionFilterRefusals: an extension is words joined by inner dots.
func TestExtensionFilterRefusals(t *testing.T) {
	for _, pat := range []string{"/b/*.js..gz", "/b/*.{png,}", "/b/*.gz.", "/b/*.{.gz}", "/b/*.j s"} {
		if _, err := compilePattern(pat); err == nil {
			t.Errorf("%q accepted", pat)
		}
	}
}
