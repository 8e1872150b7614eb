package artifact

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// countingStore counts Puts that reach the backend.
// It embeds the interface, so it hides local's Batcher.
type countingStore struct {
	backend.Backend
	puts atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, d backend.Digest, r io.Reader, n int64) error {
	c.puts.Add(1)
	return c.Backend.Put(ctx, d, r, n)
}

func newLocal(t *testing.T) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func text(word string, n int) []byte { return bytes.Repeat([]byte(word+" "), n/(len(word)+1)+1)[:n] }

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, 9)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func sampleSite(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"index.html":           []byte(`<!doctype html><link rel="stylesheet" href="/assets/site.css"><script defer src="assets/app.js"></script>` + string(text("hello", 4000))),
		"assets/app.js":        text("function(){}", 5000),
		"assets/app.js.gz":     gz(t, text("function(){}", 5000)),
		"assets/site.css":      text(".a{color:red}", 3000),
		"assets/app.js.map":    text(`{"mappings":"AAAA"}`, 2000),
		"img/photo.png":        randomBytes(20000),
		"data/archive.tar.gz":  randomBytes(3000),
		"docs/tiny.txt":        []byte("hi"),
		"docs/mislabelled.txt": randomBytes(9000),
	})
	return dir
}

func getBlob(t *testing.T, s backend.Backend, d backend.Digest) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), d)
	if err != nil {
		t.Fatalf("blob %s: %v", d, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

func decode(t *testing.T, enc string, b []byte) []byte {
	var r io.Reader = brotli.NewReader(bytes.NewReader(b))
	if enc == EncodingGzip {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuild(t *testing.T) {
	dir := sampleSite(t)
	store := newLocal(t)
	var last Progress
	m, err := Build(context.Background(), dir, store, BuildOptions{
		Meta:     Meta{Project: "shop", Release: "v1"},
		Progress: func(p Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	if last.Files != last.TotalFiles || last.Bytes != last.TotalBytes || last.Files != len(m.Files) {
		t.Errorf("final progress %+v for %d files", last, len(m.Files))
	}
	if _, ok := m.Lookup("assets/app.js.gz"); ok {
		t.Error("valid .gz sibling listed as a file")
	}
	tests := map[string]struct {
		typ       string
		encodings string
		sri       bool
		private   bool
	}{
		"index.html":           {"text/html; charset=utf-8", "br,gzip", false, false},
		"assets/app.js":        {"text/javascript; charset=utf-8", "br,gzip", true, false},
		"assets/site.css":      {"text/css; charset=utf-8", "br,gzip", true, false},
		"assets/app.js.map":    {"application/json", "br,gzip", false, true},
		"img/photo.png":        {"image/png", "", false, false},
		"data/archive.tar.gz":  {"application/gzip", "", false, false},
		"docs/tiny.txt":        {"text/plain; charset=utf-8", "", false, false},
		"docs/mislabelled.txt": {"text/plain; charset=utf-8", "", false, false},
	}
	for p, want := range tests {
		t.Run(p, func(t *testing.T) {
			f, ok := m.Lookup(p)
			if !ok {
				t.Fatalf("%s missing from manifest", p)
			}
			orig, _ := os.ReadFile(filepath.Join(dir, p))
			if f.Digest != backend.Sum(orig) || f.Size != int64(len(orig)) {
				t.Errorf("digest/size do not match the file")
			}
			if !bytes.Equal(getBlob(t, store, f.Digest), orig) {
				t.Errorf("stored blob differs from the file")
			}
			var encs []string
			for _, v := range f.Variants {
				encs = append(encs, v.Encoding)
				c := getBlob(t, store, v.Digest)
				if int64(len(c)) != v.Size || v.Size >= f.Size || !bytes.Equal(decode(t, v.Encoding, c), orig) {
					t.Errorf("variant %s is wrong", v.Encoding)
				}
			}
			if got := strings.Join(encs, ","); got != want.encodings || f.Type != want.typ ||
				(f.Integrity != "") != want.sri || f.Private != want.private {
				t.Errorf("got type %q encodings %q integrity %q private %v; want %+v", f.Type, got, f.Integrity, f.Private, want)
			}
		})
	}
	js, _ := m.Lookup("assets/app.js")
	gzv, _ := js.Variant(EncodingGzip)
	sib, _ := os.ReadFile(filepath.Join(dir, "assets/app.js.gz"))
	if gzv.Digest != backend.Sum(sib) {
		t.Error("gzip variant of app.js is not the existing .gz sibling")
	}
}

func TestBuildBadSibling(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"a.js":    text("current()", 3000),
		"a.js.gz": gz(t, text("stale()", 3000)),
	})
	m, err := Build(context.Background(), dir, newLocal(t), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := m.Lookup("a.js.gz")
	if !ok || f.Type != "application/gzip" {
		t.Fatalf("stale sibling not kept as a file: %+v", m.Files)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "does not decompress") {
		t.Fatalf("Warnings = %v", m.Warnings)
	}
	a, _ := m.Lookup("a.js")
	if v, ok := a.Variant(EncodingGzip); !ok || v.Digest == f.Digest {
		t.Fatal("a.js did not get a freshly made gzip variant")
	}
}

func TestBuildHTMLIntegrity(t *testing.T) {
	dir := sampleSite(t)
	store := newLocal(t)
	m, err := Build(context.Background(), dir, store, BuildOptions{HTMLIntegrity: true})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := m.Lookup("index.html")
	js, _ := m.Lookup("assets/app.js")
	css, _ := m.Lookup("assets/site.css")
	body := string(getBlob(t, store, idx.Digest))
	if !strings.Contains(body, `src="assets/app.js" integrity="`+js.Integrity+`"`) ||
		!strings.Contains(body, `href="/assets/site.css" integrity="`+css.Integrity+`"`) {
		t.Fatalf("index.html not rewritten: %.300s", body)
	}
	if idx.Digest != backend.Sum([]byte(body)) || idx.Size != int64(len(body)) {
		t.Fatal("index.html digest is not of the rewritten bytes")
	}
	br, _ := idx.Variant(EncodingBrotli)
	if got := decode(t, EncodingBrotli, getBlob(t, store, br.Digest)); string(got) != body {
		t.Fatal("brotli variant is not of the rewritten bytes")
	}
}

func TestBuildRejects(t *testing.T) {
	tests := map[string]struct {
		setup func(t *testing.T, dir string)
		opts  BuildOptions
		want  string
	}{
		"symlink inside, not followed": {func(t *testing.T, dir string) {
			os.Symlink("a.txt", filepath.Join(dir, "link.txt"))
		}, BuildOptions{}, "link.txt: is a symlink"},
		"symlink outside": {func(t *testing.T, dir string) {
			os.Symlink("/etc/hostname", filepath.Join(dir, "out"))
		}, BuildOptions{FollowSymlinks: true}, "points outside the folder"},
		"symlink to dir": {func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.Symlink("sub", filepath.Join(dir, "subl"))
		}, BuildOptions{FollowSymlinks: true}, "only links to regular files"},
		"broken symlink": {func(t *testing.T, dir string) {
			os.Symlink("nowhere", filepath.Join(dir, "broken"))
		}, BuildOptions{FollowSymlinks: true}, "broken symlink"},
		"fifo": {func(t *testing.T, dir string) {
			if err := mkfifo(filepath.Join(dir, "pipe")); err != nil {
				t.Skip(err)
			}
		}, BuildOptions{}, "pipe: is a named pipe"},
		"socket": {func(t *testing.T, dir string) {
			l, err := net.Listen("unix", filepath.Join(dir, "sock"))
			if err != nil {
				t.Skip(err)
			}
			t.Cleanup(func() { l.Close() })
		}, BuildOptions{}, "sock: is a socket"},
		"backslash name": {func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, `a\b.txt`), nil, 0o644)
		}, BuildOptions{}, "backslash"},
		"missing dir": {func(t *testing.T, dir string) { os.RemoveAll(dir) }, BuildOptions{}, "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{"a.txt": []byte("a")})
			tc.setup(t, dir)
			store := newLocal(t)
			_, err := Build(context.Background(), dir, store, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want %q", err, tc.want)
			}
			assertEmpty(t, store)
		})
	}
}

func assertEmpty(t *testing.T, s backend.Backend) {
	t.Helper()
	n := 0
	s.List(context.Background(), func(backend.Digest) error { n++; return nil })
	if n != 0 {
		t.Fatalf("store holds %d blobs after a failed build", n)
	}
}

func TestBuildFollowsInsideSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"a.txt": []byte("a")})
	os.Symlink("a.txt", filepath.Join(dir, "b.txt"))
	m, err := Build(context.Background(), dir, newLocal(t), BuildOptions{FollowSymlinks: true, Exclude: []string{".git"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Lookup("a.txt")
	b, ok := m.Lookup("b.txt")
	if !ok || a.Digest != b.Digest {
		t.Fatalf("followed link: %+v", m.Files)
	}
}

func TestBuildCancelled(t *testing.T) {
	dir := sampleSite(t)
	store := newLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Build(ctx, dir, store, BuildOptions{Workers: 1, Progress: func(Progress) {
		if calls++; calls == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build = %v, want context.Canceled", err)
	}
	assertEmpty(t, store)
}

func TestBuildExclude(t *testing.T) {
	dir := sampleSite(t)
	writeFiles(t, dir, map[string][]byte{".git/config": []byte("x")})
	m, err := Build(context.Background(), dir, newLocal(t), BuildOptions{Exclude: []string{".git", "*.map"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, ".git") || strings.HasSuffix(f.Path, ".map") {
			t.Fatalf("excluded file %s in manifest", f.Path)
		}
	}
}

// TestBuildExcludeAnchored: a pattern that starts with / leaves out the
// file at the top only, not one of the same name deeper.
func TestBuildExcludeAnchored(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"phoenix.yaml": []byte("x"), "docs/phoenix.yaml": []byte("y"), "index.html": []byte("z")})
	m, err := Build(context.Background(), dir, newLocal(t), BuildOptions{Exclude: []string{"/phoenix.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Files {
		got = append(got, f.Path)
	}
	if strings.Join(got, " ") != "docs/phoenix.yaml index.html" {
		t.Fatalf("files %v, want docs/phoenix.yaml and index.html", got)
	}
}

// Linking changes a file's ctime (link, chmod, rename): the cache must still
// recognise the file next time, and only re-read what changed.
