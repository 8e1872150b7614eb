package artifact

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestLocate(t *testing.T) {
	m, _, _, store := signedBuild(t)
	tests := map[string]struct {
		path   string
		accept []string
		found  bool
		enc    string
	}{
		"brotli preferred": {"assets/app.js", []string{"br", "gzip"}, true, "br"},
		"gzip preferred":   {"assets/app.js", []string{"gzip", "br"}, true, "gzip"},
		"identity":         {"assets/app.js", nil, true, ""},
		"no variant":       {"img/photo.png", []string{"br"}, true, ""},
		"private map":      {"assets/app.js.map", nil, false, ""},
		"missing":          {"nope.html", nil, false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok, err := Locate(m, store, tc.path, tc.accept)
			if err != nil || ok != tc.found || r.Encoding != tc.enc {
				t.Fatalf("Locate = %+v, %v, %v", r, ok, err)
			}
			if ok {
				data, _ := os.ReadFile(r.BlobPath)
				if int64(len(data)) != r.Size {
					t.Fatalf("blob file has %d bytes, want %d", len(data), r.Size)
				}
			}
		})
	}
}

func TestMaterialize(t *testing.T) {
	m, _, _, store := signedBuild(t)
	dst := filepath.Join(t.TempDir(), "site")
	if err := Materialize(context.Background(), m, store, dst); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		got, err := os.ReadFile(filepath.Join(dst, f.Path))
		if f.Private {
			if err == nil {
				t.Errorf("private %s materialized", f.Path)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, getBlob(t, store, f.Digest)) {
			t.Errorf("%s: %v", f.Path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "index.html.br")); err != nil {
		t.Errorf("brotli sibling missing: %v", err)
	}
	if err := Materialize(context.Background(), m, store, dst); err == nil {
		t.Error("Materialize into an existing folder succeeded")
	}
}
