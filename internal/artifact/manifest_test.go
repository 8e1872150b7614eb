package artifact

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

func dig(s string) backend.Digest { return backend.Sum([]byte(s)) }

func sampleManifest() *Manifest {
	return &Manifest{
		Version: FormatVersion,
		Meta: Meta{Project: "shop", Release: "v1.2.3", Commit: "0123abc",
			Created: time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("x", 3600)), Builder: "ci"},
		Files: []File{
			{Path: "index.html", Digest: dig("index"), Size: 5, Type: "text/html; charset=utf-8",
				Variants: []Variant{{EncodingGzip, dig("gz"), 3}, {EncodingBrotli, dig("br"), 2}}},
			{Path: "assets/app.js", Digest: dig("app"), Size: 3, Type: "text/javascript; charset=utf-8",
				Integrity: "sha384-" + strings.Repeat("A", 64)},
			{Path: "assets/app.js.map", Digest: dig("map"), Size: 3, Type: "application/json", Private: true},
		},
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	m := sampleManifest()
	b, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("canonical form is not one compact line: %q", b)
	}
	if !strings.Contains(string(b), `"created":"2026-11-25T11:00:00Z"`) {
		t.Errorf("created not in UTC: %s", b)
	}
	if strings.Index(string(b), "assets/app.js") > strings.Index(string(b), "index.html") {
		t.Errorf("files not sorted: %s", b)
	}
	if strings.Index(string(b), `"br"`) > strings.Index(string(b), `"gzip"`) {
		t.Errorf("variants not sorted: %s", b)
	}
	if m.Files[0].Path != "index.html" {
		t.Errorf("Canonical modified the manifest")
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := back.Canonical()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs (%v):\n%s\n%s", err, b, b2)
	}
	d1, _ := m.Digest()
	d2, _ := back.Digest()
	if d1 != d2 || d1 != backend.Sum(b) {
		t.Fatalf("digests differ: %s %s", d1, d2)
	}
}

func TestDigestChangesWithContent(t *testing.T) {
	a, b := sampleManifest(), sampleManifest()
	b.Files[1].Size++
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da == db {
		t.Fatal("different manifests have the same digest")
	}
}

func TestDecodeAcceptsPrettyAndUnsorted(t *testing.T) {
	in := `{
  "version": 1,
  "files": [
    {"path": "b.txt", "digest": "` + string(dig("b")) + `", "size": 1, "type": "text/plain"},
    {"path": "a.txt", "digest": "` + string(dig("a")) + `", "size": 1, "type": "text/plain"}
  ]
}`
	m, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Files[0].Path != "a.txt" {
		t.Fatalf("files not sorted after Decode: %v", m.Files)
	}
	if f, ok := m.Lookup("b.txt"); !ok || f.Size != 1 {
		t.Fatalf("Lookup(b.txt) = %v, %v", f, ok)
	}
	if _, ok := m.Lookup("c.txt"); ok {
		t.Fatal("Lookup found a missing path")
	}
}

func fileJSON(path, extra string) string {
	return `{"path":` + path + `,"digest":"` + string(dig("x")) + `","size":1,"type":"text/plain"` + extra + `}`
}

func doc(files ...string) string {
	return `{"version":1,"files":[` + strings.Join(files, ",") + `]}`
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"not json":           {`{`, "decode manifest"},
		"trailing data":      {doc() + `{}`, "after the manifest"},
		"unknown field":      {`{"version":1,"files":[],"extra":1}`, "unknown field"},
		"missing files":      {`{"version":1}`, "missing \"files\""},
		"wrong version":      {`{"version":2,"files":[]}`, "version: 2"},
		"dotdot":             {doc(fileJSON(`"a/../b"`, "")), `".." element`},
		"leading dotdot":     {doc(fileJSON(`"../etc/passwd"`, "")), `".." element`},
		"absolute":           {doc(fileJSON(`"/etc/passwd"`, "")), "absolute"},
		"backslash":          {doc(fileJSON(`"a\\b"`, "")), "backslash"},
		"nul":                {doc(fileJSON(`"a\u0000b"`, "")), "control character"},
		"newline":            {doc(fileJSON(`"a\nb"`, "")), "control character"},
		"dot element":        {doc(fileJSON(`"./a"`, "")), `"." element`},
		"double slash":       {doc(fileJSON(`"a//b"`, "")), "empty element"},
		"trailing slash":     {doc(fileJSON(`"a/"`, "")), "empty element"},
		"empty path":         {doc(fileJSON(`""`, "")), "empty path"},
		"duplicate":          {doc(fileJSON(`"a"`, ""), fileJSON(`"a"`, "")), "duplicate path"},
		"file and dir":       {doc(fileJSON(`"a"`, ""), fileJSON(`"a/b"`, "")), "which is a file"},
		"bad digest":         {doc(`{"path":"a","digest":"sha256:zz","size":1,"type":"text/plain"}`), "files[0].digest"},
		"negative size":      {doc(`{"path":"a","digest":"` + string(dig("x")) + `","size":-1,"type":"text/plain"}`), "negative"},
		"bad type":           {doc(`{"path":"a","digest":"` + string(dig("x")) + `","size":1,"type":"??"}`), "media type"},
		"bad integrity":      {doc(fileJSON(`"a"`, `,"integrity":"sha256-abc"`)), "integrity"},
		"bad encoding":       {doc(fileJSON(`"a"`, `,"variants":[{"encoding":"lzma","digest":"`+string(dig("v"))+`","size":1}]`)), "encoding"},
		"duplicate encoding": {doc(fileJSON(`"a"`, `,"variants":[{"encoding":"br","digest":"`+string(dig("v"))+`","size":1},{"encoding":"br","digest":"`+string(dig("v"))+`","size":1}]`)), "duplicate encoding"},
		"meta control char":  {`{"version":1,"meta":{"project":"a\nb"},"files":[]}`, "meta.project"},
		"size as string":     {doc(`{"path":"a","digest":"` + string(dig("x")) + `","size":"1","type":"text/plain"}`), "line 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidationErrorCapsProblems(t *testing.T) {
	m := &Manifest{Version: FormatVersion}
	for range 50 {
		m.Files = append(m.Files, File{Path: "/abs", Digest: "bad", Type: "text/plain"})
	}
	_, err := m.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != maxProblems || ve.More == 0 {
		t.Fatalf("Validate = %v, want a capped ValidationError", err)
	}
}

func TestCaseDuplicateWarning(t *testing.T) {
	m, err := Decode([]byte(doc(fileJSON(`"Readme.md"`, ""), fileJSON(`"README.md"`, ""))))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "differ only in case") {
		t.Fatalf("Warnings = %v", m.Warnings)
	}
}

func TestCanonicalRefusesInvalid(t *testing.T) {
	m := sampleManifest()
	m.Files[0].Path = "../x"
	if _, err := m.Canonical(); err == nil {
		t.Fatal("Canonical of an invalid manifest succeeded")
	}
}

func TestBlobsDeduplicates(t *testing.T) {
	m := sampleManifest()
	m.Files = append(m.Files, File{Path: "copy.html", Digest: dig("index"), Size: 5, Type: "text/html"})
	if got := len(m.Blobs()); got != 5 {
		t.Fatalf("Blobs() has %d entries, want 5", got)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := sampleManifest().Canonical()
	f.Add(b)
	f.Add([]byte(doc(fileJSON(`"a"`, ""), fileJSON(`"A"`, ""))))
	f.Add([]byte(doc(fileJSON(`"a/../b"`, ""))))
	f.Add([]byte(`{"version":1,"files":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		c, err := m.Canonical()
		if err != nil {
			t.Fatalf("decoded manifest has no canonical form: %v", err)
		}
		m2, err := Decode(c)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v", err)
		}
		c2, err := m2.Canonical()
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", c, c2)
		}
		for _, f := range m.Files {
			if ValidatePath(f.Path) != nil || strings.Contains(f.Path, "..") && strings.Contains("/"+f.Path+"/", "/../") {
				t.Fatalf("accepted unsafe path %q", f.Path)
			}
		}
	})
}

// TestSameFiles: two builds of one folder differ in Meta (when, by whom)
// and so in digest, but serve the same files; another file is not the same.
func TestSameFiles(t *testing.T) {
	file := File{Path: "index.html", Digest: backend.Sum([]byte("hi")), Size: 2, Type: "text/html; charset=utf-8"}
	a := &Manifest{Version: FormatVersion, Meta: Meta{Release: "v1", Created: time.Unix(1, 0)}, Files: []File{file}}
	b := &Manifest{Version: FormatVersion, Meta: Meta{Release: "v1", Created: time.Unix(2, 0), Builder: "phoenix pipeline 7"}, Files: []File{file}}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da == db || !SameFiles(a, b) || a.Meta.Created != time.Unix(1, 0) {
		t.Fatalf("two builds of one folder: digests %s %s, same files %v", da, db, SameFiles(a, b))
	}
	file.Type = "text/plain; charset=utf-8"
	if c := (&Manifest{Version: FormatVersion, Meta: a.Meta, Files: []File{file}}); SameFiles(a, c) {
		t.Fatal("another type of the file is the same files")
	}
}
