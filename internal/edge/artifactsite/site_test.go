package artifactsite

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

type fileSpec struct {
	path, body string
	private    bool
	gzip       string // body of a gzip variant, if any
}

func build(t *testing.T, files []fileSpec) (*artifact.Manifest, *local.Store) {
	t.Helper()
	store, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	put := func(body string) backend.Digest {
		d := backend.Sum([]byte(body))
		if err := store.Put(context.Background(), d, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := &artifact.Manifest{Version: artifact.FormatVersion}
	for _, f := range files {
		af := artifact.File{Path: f.path, Digest: put(f.body), Size: int64(len(f.body)), Type: "text/plain; charset=utf-8", Private: f.private}
		if f.gzip != "" {
			af.Variants = []artifact.Variant{{Encoding: artifact.EncodingGzip, Digest: put(f.gzip), Size: int64(len(f.gzip))}}
		}
		m.Files = append(m.Files, af)
	}
	m.Sort()
	return m, store
}

func TestSiteServesTheManifestFromBlobFiles(t *testing.T) {
	m, store := build(t, []fileSpec{
		{path: "index.html", body: "<title>home</title>", gzip: "gzipped-home"},
		{path: "assets/app.js.map", body: "{}", private: true},
		{path: ConfigFile, body: `{"navigationFallback":{"rewrite":"/index.html"}}`},
	})
	s, err := New(context.Background(), "7:sha256:x", m, store)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID() != "7:sha256:x" || s.Len() != 1 {
		t.Fatalf("id %q, %d files served, want only index.html", s.ID(), s.Len())
	}
	if s.Lookup("/assets/app.js.map") != nil || s.Lookup("/"+ConfigFile) != nil {
		t.Fatal("a private file or the routing config is served")
	}
	f := s.Lookup("/index.html")
	if f == nil || len(f.Encoded) != 1 || f.Encoded[0].ETag == f.Identity.ETag {
		t.Fatalf("index.html = %+v: want one variant with its own strong ETag", f)
	}
	for _, rep := range []*edge.Representation{&f.Identity, &f.Encoded[0]} {
		fh, err := s.Open(rep.Blob)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(fh)
		fh.Close()
		if int64(len(b)) != rep.Size {
			t.Fatalf("%s: %d bytes, want %d", rep.Encoding, len(b), rep.Size)
		}
	}
	// The navigation fallback of the artifact's config applies.
	d := s.Config().Decide(&swa.Request{Method: "GET", Path: "/some/route", Roles: []string{"anonymous"}}, exists{s})
	if d.Status != 200 || d.File != "/index.html" {
		t.Fatalf("fallback decision = %+v", d)
	}
}

type exists struct{ s *Site }

func (e exists) Exists(p string) bool { return e.s.Lookup(p) != nil }

func TestSiteRefusesABadConfigAndMissingBlobs(t *testing.T) {
	m, store := build(t, []fileSpec{{path: ConfigFile, body: `{"routes":[{"route":"/a/*/b","rewrite":"/x"}]}`}})
	if _, err := New(context.Background(), "1", m, store); err == nil {
		t.Fatal("a config Azure rejects at deploy time was accepted")
	}
	m, store = build(t, []fileSpec{{path: "index.html", body: "x"}})
	s, err := New(context.Background(), "2", m, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(string(backend.Sum([]byte("never stored")))); err == nil {
		t.Fatal("opening a missing blob succeeded")
	}
	if _, err := New(context.Background(), "3", m, noPather{store}); err == nil {
		t.Fatal("a store without local files was accepted")
	}
}

// noPather hides the local store's Path method.
type noPather struct{ backend.Backend }
