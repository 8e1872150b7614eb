package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// bigJS returns ~150 KB of bundler-like JavaScript.
func bigJS() string {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "export function f%d(a,b){return a*%d+b.map(x=>x+%d).join(',')}\n", i, i, i%7)
	}
	return b.String()
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func decode(t *testing.T, enc, body string) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "br":
		r = brotli.NewReader(strings.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body does not decode: %v", enc, err)
	}
	return string(b)
}

// TestServeDirCompresses: a folder without precompressed siblings (a Vite
// build) gets br and gzip variants in a private folder once they are
// ready; a file with its own .gz keeps it and gets the br it lacks, as the
// artifact build adds it; the folder is never written to
// and the private folder is removed when serving ends.
func TestServeDirCompresses(t *testing.T) {
	js, css := bigJS(), strings.Repeat("body{margin:0;padding:0}\n", 400)
	dir := writeTree(t, map[string]string{"index.html": "<p>hi</p>", "assets/index-abc.js": js,
		"assets/app.css": css, "assets/app.css.gz": gzipped(t, css)})
	before := testkit.ListTree(t, dir)
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	addr, served := startServeDir(t, ctx, dir, ServeOptions{Compressed: func(tmp string, files int) {
		if files != 2 {
			t.Errorf("%d files compressed, want 2 (the JS; the CSS's br beside its own .gz)", files)
		}
		ready <- tmp
	}})
	var servedErr error
	ended := make(chan struct{})
	go func() { servedErr = <-served; close(ended) }()
	stop := func() error { cancel(); <-ended; return servedErr }
	t.Cleanup(func() { stop() }) // a failed test still removes its private folder
	var tmp string
	select {
	case tmp = <-ready:
	case <-ended:
		t.Fatalf("ServeDir ended: %v", servedErr)
	case <-time.After(time.Minute):
		t.Fatal("variants never ready")
	}
	srv := &testEdge{URL: "http://" + addr}
	get := func(p, ae string) response { return srv.get(t, p, map[string]string{"Accept-Encoding": ae}) }
	id := get("/assets/index-abc.js", "")
	if id.body != js || id.header.Get("Content-Encoding") != "" || id.header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("identity: %d bytes, encoding %q, vary %q", len(id.body), id.header.Get("Content-Encoding"), id.header.Get("Vary"))
	}
	for _, enc := range []string{"br", "gzip"} {
		r := get("/assets/index-abc.js", enc)
		if r.header.Get("Content-Encoding") != enc || len(r.body) >= len(js)/2 {
			t.Fatalf("%s: encoding %q, %d of %d bytes", enc, r.header.Get("Content-Encoding"), len(r.body), len(js))
		}
		if decode(t, enc, r.body) != js {
			t.Fatalf("%s variant does not decompress to the file", enc)
		}
		if et := r.header.Get("Etag"); et == "" || et == id.header.Get("Etag") {
			t.Fatalf("%s ETag %q, identity's %q", enc, et, id.header.Get("Etag"))
		}
	}
	if r := get("/assets/app.css", "gzip"); r.body != gzipped(t, css) {
		t.Fatal("app.css: its own .gz sibling is not what gzip gets")
	}
	if r := get("/assets/app.css", "br"); r.header.Get("Content-Encoding") != "br" || decode(t, "br", r.body) != css {
		t.Fatalf("app.css with only a .gz of its own: br gets encoding %q, %d bytes", r.header.Get("Content-Encoding"), len(r.body))
	}
	if r := get("/assets/app.css", "br, gzip"); r.header.Get("Content-Encoding") != "br" {
		t.Fatalf("app.css: br, gzip gets encoding %q, want the generated br", r.header.Get("Content-Encoding"))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if after := testkit.ListTree(t, dir); after != before {
		t.Fatalf("served folder changed:\nbefore:\n%safter:\n%s", before, after)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("private folder %s still there after shutdown: %v", tmp, err)
	}
}

// TestServeDirNoCompress: with NoCompress no private folder is made and the
// file is served as it is even to a client that accepts br.
func TestServeDirNoCompress(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where os.MkdirTemp would make the private folder
	js := bigJS()
	dir := writeTree(t, map[string]string{"app.js": js})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, served := startServeDir(t, ctx, dir, ServeOptions{NoCompress: true,
		Compressed: func(string, int) { t.Error("variants made with NoCompress") }})
	r := (&testEdge{URL: "http://" + addr}).get(t, "/app.js", map[string]string{"Accept-Encoding": "br"})
	if r.body != js || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("encoding %q, %d bytes", r.header.Get("Content-Encoding"), len(r.body))
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Fatalf("temporary folder holds %v (%v)", ents, err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
