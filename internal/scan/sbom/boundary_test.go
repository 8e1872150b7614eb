package sbom

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestLicenceFileLinkedOutside: node_modules/evil linked out of the
// project (to a folder whose package.json says MIT), and
// node_modules/b's LICENSE linked to a file outside, are not read for
// the SBOM's licences; the SBOM said nothing of it, giving both packages
// no licence unexplained. Its warnings name each file, inside the project,
// as the licence check's do, and the CycloneDX and SPDX documents
// say so and stay valid.
func TestLicenceFileLinkedOutside(t *testing.T) {
	proj, outside := t.TempDir(), t.TempDir()
	files := map[string]fstest.MapFS{
		proj: {
			".git/HEAD": {Data: []byte("ref: refs/heads/main\n")},
			"package-lock.json": {Data: []byte(`{"lockfileVersion":3,"packages":{"":{"dependencies":{"evil":"1","b":"1"}},
				"node_modules/evil":{"version":"1.0.0"},"node_modules/b":{"version":"1.0.0"}}}`)},
			"node_modules/b/package.json": {Data: []byte(`{"version":"1.0.0"}`)},
		},
		outside: {
			"evil/package.json": {Data: []byte(`{"version":"1.0.0","license":"MIT"}`)},
			"LICENSE":           {Data: []byte("MIT License\n\nPermission is hereby granted, free of charge, to any person")},
		},
	}
	for dir, fsys := range files {
		if err := os.CopyFS(dir, fsys); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"node_modules/evil": "evil", "node_modules/b/LICENSE": "LICENSE"} {
		if err := os.Symlink(filepath.Join(outside, target), filepath.Join(proj, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	bom, problems, err := Generate(context.Background(), proj, Options{Version: "1.2.3", Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), GoModCache: t.TempDir()})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	for _, c := range *bom.Components {
		if c.Licenses != nil {
			t.Errorf("%s has licence %+v, read from outside the project", c.Name, *c.Licenses)
		}
	}
	var spdx bytes.Buffer
	if err := WriteSPDX(&spdx, bom); err != nil {
		t.Fatal(err)
	}
	cdx := validate(t, schema(t), bom)
	if v := spdxViolations(spdx.Bytes()); len(v) > 0 {
		t.Errorf("SPDX violations: %q", v)
	}
	if n := Notes(bom); len(n) != 0 {
		t.Errorf("notes %q: the files not read are warnings", n)
	}
	notes := strings.Join(Warnings(bom), "\n")
	for _, want := range []string{"node_modules/b/LICENSE", "node_modules/evil/package.json"} {
		want += ": not read: a symbolic link leads outside the project"
		if !strings.Contains(notes, want) || !strings.Contains(cdx.String(), want) || !strings.Contains(spdx.String(), want) {
			t.Errorf("notes %q, or the documents, do not say %q", notes, want)
		}
	}
	if strings.Contains(notes+cdx.String()+spdx.String(), outside) {
		t.Errorf("notes or documents name where the links lead")
	}
}
