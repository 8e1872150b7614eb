package artifact

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

func exported(t *testing.T) (*Manifest, []byte, sign.PublicKey, []byte) {
	t.Helper()
	m, sig, pub, store := signedBuild(t)
	var buf bytes.Buffer
	if err := Export(context.Background(), &buf, m, sig, store); err != nil {
		t.Fatal(err)
	}
	return m, sig, pub, buf.Bytes()
}

func TestExportImport(t *testing.T) {
	m, sig, pub, archive := exported(t)
	store := newLocal(t)
	m2, sig2, err := Import(context.Background(), bytes.NewReader(archive), store)
	if err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, m) != mustDigest(t, m2) || !bytes.Equal(sig, sig2) {
		t.Fatal("imported manifest or signature differs")
	}
	probs, err := Verify(context.Background(), m2, sig2, &pub, store)
	if err != nil || len(probs) != 0 {
		t.Fatalf("Verify after import: %v %v", probs, err)
	}
	// Importing again into the same store is fine (blobs already there).
	if _, _, err := Import(context.Background(), bytes.NewReader(archive), store); err != nil {
		t.Fatalf("second import: %v", err)
	}
}

// TestImportRepackedArchive: an artifact unpacked and packed again by tar
// (tar -cf a.tar manifest.json manifest.json.minisig blobs, as after
// re-signing manifest.json with minisign) holds the folder entries blobs/
// and blobs/sha256/ before the blobs; they carry nothing and are skipped.
func TestImportRepackedArchive(t *testing.T) {
	m, sig, pub, archive := exported(t)
	p := parts(t, archive)
	repacked := append([]tarEntry{p[0], p[1], {name: "blobs/", typ: tar.TypeDir}, {name: "blobs/sha256/", typ: tar.TypeDir}}, p[2:]...)
	store := newLocal(t)
	m2, sig2, err := Import(context.Background(), bytes.NewReader(makeTar(t, repacked)), store)
	if err != nil {
		t.Fatalf("Import of a repacked archive: %v", err)
	}
	if mustDigest(t, m) != mustDigest(t, m2) || !bytes.Equal(sig, sig2) {
		t.Fatal("imported manifest or signature differs")
	}
	if probs, err := Verify(context.Background(), m2, sig2, &pub, store); err != nil || len(probs) != 0 {
		t.Fatalf("Verify after import: %v %v", probs, err)
	}
	assertOnlyBlobs(t, store.Root())
}

// TestImportDotSlashNames: entries named "./manifest.json" (tar given
// ./-paths, with "./" itself) import as the same archive.
func TestImportDotSlashNames(t *testing.T) {
	m, _, _, archive := exported(t)
	var dotted []tarEntry
	for _, e := range append([]tarEntry{{name: "", typ: tar.TypeDir}}, parts(t, archive)...) {
		e.name = "./" + e.name
		dotted = append(dotted, e)
	}
	m2, _, err := Import(context.Background(), bytes.NewReader(makeTar(t, dotted)), newLocal(t))
	if err != nil || mustDigest(t, m) != mustDigest(t, m2) {
		t.Fatalf("Import of ./-named entries: %v", err)
	}
}

// TestImportAnyOrder: manifest, signature and blobs import in whatever
// order tar packed them, as long as the archive can be read twice (a file,
// here a bytes.Reader); read as a stream it must start with the manifest.
func TestImportAnyOrder(t *testing.T) {
	m, sig, pub, archive := exported(t)
	p := parts(t, archive)
	manifest, sigE, blobs := p[0], p[1], p[2:]
	dirs := []tarEntry{{name: "blobs/", typ: tar.TypeDir}, {name: "blobs/sha256/", typ: tar.TypeDir}}
	orders := map[string][]tarEntry{
		"blobs, signature, manifest": slices.Concat(dirs, blobs, []tarEntry{sigE, manifest}),
		"blobs, manifest, signature": slices.Concat(dirs, blobs, []tarEntry{manifest, sigE}),
		"signature first":            slices.Concat([]tarEntry{sigE}, blobs[:2], []tarEntry{manifest}, blobs[2:]),
		"manifest, blobs, signature": slices.Concat([]tarEntry{manifest}, blobs, []tarEntry{sigE}),
	}
	for name, entries := range orders {
		t.Run(name, func(t *testing.T) {
			store := newLocal(t)
			m2, sig2, err := Import(context.Background(), bytes.NewReader(makeTar(t, entries)), store)
			if err != nil {
				t.Fatal(err)
			}
			if mustDigest(t, m) != mustDigest(t, m2) || !bytes.Equal(sig, sig2) {
				t.Fatal("imported manifest or signature differs")
			}
			if probs, err := Verify(context.Background(), m2, sig2, &pub, store); err != nil || len(probs) != 0 {
				t.Fatalf("Verify after import: %v %v", probs, err)
			}
			assertOnlyBlobs(t, store.Root())
		})
	}
	stream := struct{ io.Reader }{bytes.NewReader(makeTar(t, orders["manifest, blobs, signature"]))}
	if _, sig2, err := Import(context.Background(), stream, newLocal(t)); err != nil || !bytes.Equal(sig, sig2) {
		t.Fatalf("Import of a stream with the manifest first: %v", err)
	}
	store := newLocal(t)
	stream = struct{ io.Reader }{bytes.NewReader(makeTar(t, orders["blobs, signature, manifest"]))}
	if _, _, err := Import(context.Background(), stream, store); !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), `first entry is "blobs/sha256/`) {
		t.Fatalf("Import of a stream with blobs first = %v, want first entry refused", err)
	}
	assertOnlyBlobs(t, store.Root())
}

// changingFile is a file whose content changes when it is read again from
// the start (an archive rewritten in place while it is imported): reads
// come from first until a Seek back to the start, from second after.
type changingFile struct {
	r      *bytes.Reader
	second []byte
}

func (f *changingFile) Read(p []byte) (int, error) { return f.r.Read(p) }

func (f *changingFile) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart && off == 0 && f.second != nil {
		f.r, f.second = bytes.NewReader(f.second), nil
	}
	return f.r.Seek(off, whence)
}

// TestImportOfAnArchiveChangedWhileRead: a file read twice (its manifest
// not first) that changes between the readings is refused, saying so,
// with no manifest returned: without its manifest the second time, or
// with another signature than the one the check passed.
func TestImportOfAnArchiveChangedWhileRead(t *testing.T) {
	_, sig, pub, archive := exported(t)
	p := parts(t, archive)
	manifest, sigE, blobs := p[0], p[1], p[2:]
	_, otherSig, _, _ := exported(t) // the same files, signed with another key
	if bytes.Equal(sig, otherSig) {
		t.Fatal("two keys made the same signature")
	}
	before := makeTar(t, slices.Concat(blobs, []tarEntry{sigE, manifest}))
	cases := map[string]struct {
		after []tarEntry
		says  string
	}{
		"manifest gone":     {blobs, "archive changed while read: manifest.json is gone"},
		"signature changed": {slices.Concat(blobs, []tarEntry{{name: sigE.name, data: otherSig}, manifest}), "archive changed while read: " + SignatureName + " is not the one checked"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			checks := 0
			check := func(m *Manifest, s []byte) error { checks++; return VerifySignature(m, s, pub) }
			f := &changingFile{r: bytes.NewReader(before), second: makeTar(t, c.after)}
			m, _, err := ImportWith(context.Background(), f, newLocal(t), ImportOptions{Check: check})
			if m != nil || !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("import: manifest returned %v, error %v; want %q", m != nil, err, c.says)
			}
			if checks != 1 {
				t.Fatalf("the check ran %d times, want once", checks)
			}
		})
	}
}

// TestImportWithCheck: ImportWith runs its check once, on the manifest and
// the archive's signature, before a blob is stored, in whatever order a
// file holds them; a check's error ends the import with the store empty.
// A stream must bring the signature before the first blob.
func TestImportWithCheck(t *testing.T) {
	m, sig, pub, archive := exported(t)
	p := parts(t, archive)
	manifest, sigE, blobs := p[0], p[1], p[2:]
	errForeign := errors.New("not ours")
	verifyWith := func(key sign.PublicKey) func(*Manifest, []byte) error {
		return func(m *Manifest, sig []byte) error {
			if err := VerifySignature(m, sig, key); err != nil {
				return errors.Join(errForeign, err)
			}
			return nil
		}
	}
	other, _, _ := sign.GenerateKey(nil)
	orders := map[string][]tarEntry{
		"as exported":                {manifest, sigE},
		"blobs, signature, manifest": slices.Concat(blobs, []tarEntry{sigE, manifest}),
		"signature first":            slices.Concat([]tarEntry{sigE}, blobs[:2], []tarEntry{manifest}, blobs[2:]),
		"manifest, blobs, signature": slices.Concat([]tarEntry{manifest}, blobs, []tarEntry{sigE}),
	}
	orders["as exported"] = append(orders["as exported"], blobs...)
	for name, entries := range orders {
		data := makeTar(t, entries)
		t.Run(name, func(t *testing.T) {
			store := newLocal(t)
			calls := 0
			m2, sig2, err := ImportWith(context.Background(), bytes.NewReader(data), store, ImportOptions{Check: func(cm *Manifest, csig []byte) error {
				calls++
				if n := countBlobs(t, store); n != 0 {
					t.Errorf("%d blobs stored before the check", n)
				}
				if mustDigest(t, cm) != mustDigest(t, m) || !bytes.Equal(csig, sig) {
					t.Errorf("the check was given another manifest or signature")
				}
				return verifyWith(pub)(cm, csig)
			}})
			if err != nil || calls != 1 || !bytes.Equal(sig2, sig) || mustDigest(t, m2) != mustDigest(t, m) {
				t.Fatalf("ImportWith = %v after %d checks", err, calls)
			}
			if n := countBlobs(t, store); n != len(m.Blobs()) {
				t.Fatalf("%d blobs stored, want %d", n, len(m.Blobs()))
			}
			for what, archive := range map[string][]byte{"signed by another key": data, "unsigned": makeTar(t, slices.DeleteFunc(slices.Clone(entries), func(e tarEntry) bool { return e.name == SignatureName }))} {
				store := newLocal(t)
				key := pub
				if what == "signed by another key" {
					key = other
				}
				m2, _, err := ImportWith(context.Background(), bytes.NewReader(archive), store, ImportOptions{Check: verifyWith(key)})
				if !errors.Is(err, errForeign) || m2 != nil {
					t.Errorf("%s: ImportWith = %v, want the check's error", what, err)
				}
				if n := countBlobs(t, store); n != 0 {
					t.Errorf("%s: %d blobs stored", what, n)
				}
			}
		})
	}
	stream := func(entries []tarEntry) io.Reader { return struct{ io.Reader }{bytes.NewReader(makeTar(t, entries))} }
	if _, sig2, err := ImportWith(context.Background(), stream(orders["as exported"]), newLocal(t), ImportOptions{Check: verifyWith(pub)}); err != nil || !bytes.Equal(sig2, sig) {
		t.Fatalf("a stream as exported: %v", err)
	}
	store := newLocal(t)
	if _, _, err := ImportWith(context.Background(), stream(orders["as exported"]), store, ImportOptions{Check: verifyWith(other)}); !errors.Is(err, errForeign) || countBlobs(t, store) != 0 {
		t.Fatalf("a stream signed by another key: %v, %d blobs stored", err, countBlobs(t, store))
	}
	for name, entries := range map[string][]tarEntry{"signature last": orders["manifest, blobs, signature"], "unsigned": slices.Concat([]tarEntry{manifest}, blobs)} {
		store := newLocal(t)
		_, _, err := ImportWith(context.Background(), stream(entries), store, ImportOptions{Check: verifyWith(pub)})
		if !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), "must have its signature right after manifest.json, before the blobs") || countBlobs(t, store) != 0 {
			t.Errorf("a stream, %s: %v, %d blobs stored", name, err, countBlobs(t, store))
		}
	}
	// A manifest without blobs, streamed without a signature: checked at the end.
	empty := &Manifest{Version: FormatVersion}
	var buf bytes.Buffer
	if err := Export(context.Background(), &buf, empty, nil, newLocal(t)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ImportWith(context.Background(), struct{ io.Reader }{&buf}, newLocal(t), ImportOptions{Check: verifyWith(pub)}); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("an empty unsigned stream: %v, want ErrUnsigned", err)
	}
}

// countBlobs is the number of blobs in store.
func countBlobs(t *testing.T, store backend.Backend) int {
	t.Helper()
	n := 0
	if err := store.List(context.Background(), func(backend.Digest) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExportRefusesDamagedStore(t *testing.T) {
	m, sig, _, store := signedBuild(t)
	js, _ := m.Lookup("assets/app.js")
	b := getBlob(t, store, js.Digest)
	b[0] ^= 1
	overwriteBlob(t, store, js.Digest, b)
	if err := Export(context.Background(), &bytes.Buffer{}, m, sig, store); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Export from a damaged store = %v", err)
	}
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name string
	typ  byte
	data []byte
}

func makeTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.data))
		if typ != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Size: size, Mode: 0o644, Linkname: "target"}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	return buf.Bytes()
}

func TestImportChecksBlobsTheStoreAlreadyHas(t *testing.T) {
	_, _, _, archive := exported(t)
	store := newLocal(t)
	if _, _, err := Import(context.Background(), bytes.NewReader(archive), store); err != nil {
		t.Fatal(err)
	}
	ps := parts(t, archive)
	for i := range ps {
		if strings.HasPrefix(ps[i].name, "blobs/") && len(ps[i].data) > 0 {
			ps[i].data[0] ^= 0xff // same size, wrong bytes
			break
		}
	}
	_, _, err := Import(context.Background(), bytes.NewReader(makeTar(t, ps)), store)
	if !errors.Is(err, ErrBadArchive) {
		t.Fatalf("a damaged blob the store already has: err = %v, want ErrBadArchive", err)
	}
}

// parts splits a good archive into entries so tests can recombine them.
func parts(t *testing.T, archive []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		data := make([]byte, hdr.Size)
		if _, err := tr.Read(data); err != nil && hdr.Size > 0 && err.Error() != "EOF" {
			t.Fatal(err)
		}
		out = append(out, tarEntry{name: hdr.Name, data: data})
	}
	return out
}

func TestImportRejects(t *testing.T) {
	_, _, _, archive := exported(t)
	p := parts(t, archive)
	manifest, sigE, blobs := p[0], p[1], p[2:]
	with := func(extra ...tarEntry) []byte {
		return makeTar(t, append([]tarEntry{manifest, sigE}, append(append([]tarEntry(nil), blobs...), extra...)...))
	}
	flipped := append([]byte(nil), blobs[0].data...)
	flipped[0] ^= 1
	pretty := bytes.Replace(manifest.data, []byte(`{"version":1`), []byte(`{ "version": 1`), 1)
	tests := map[string]struct {
		archive []byte
		want    string
	}{
		"empty":               {nil, "archive is empty"},
		"not tar":             {[]byte(strings.Repeat("garbage!", 200)), "unreadable tar header"},
		"no manifest":         {makeTar(t, append([]tarEntry{sigE}, blobs...)), "archive has no manifest.json"},
		"duplicate manifest":  {with(manifest), "duplicate entry"},
		"manifest twice late": {makeTar(t, append(append([]tarEntry{sigE}, blobs...), manifest, manifest)), "duplicate entry"},
		"stray blob before":   {makeTar(t, append([]tarEntry{{name: blobDir + backend.Sum([]byte("x")).Hex(), data: []byte("x")}, manifest}, blobs...)), "not referenced"},
		"damaged blob before": {makeTar(t, append([]tarEntry{{name: blobs[0].name, data: flipped}, manifest}, blobs[1:]...)), "does not match its digest"},
		"symlink before":      {makeTar(t, append([]tarEntry{{name: "blobs/sha256/x", typ: tar.TypeSymlink}, manifest}, blobs...)), "symlink entries are not allowed"},
		"non-canonical":       {makeTar(t, append([]tarEntry{{name: ManifestName, data: pretty}}, blobs...)), "canonical"},
		"bad manifest":        {makeTar(t, []tarEntry{{name: ManifestName, data: []byte(`{"version":1,"files":[{"path":"../x"}]}`)}}), ".."},
		"dotdot entry":        {with(tarEntry{name: "../evil", data: []byte("x")}), "unsafe name"},
		"absolute entry":      {with(tarEntry{name: "/etc/passwd", data: []byte("x")}), "unsafe name"},
		"symlink":             {with(tarEntry{name: "blobs/sha256/x", typ: tar.TypeSymlink}), "symlink entries are not allowed"},
		"hard link":           {with(tarEntry{name: "blobs/sha256/x", typ: tar.TypeLink}), "hard link entries"},
		"device":              {with(tarEntry{name: "dev", typ: tar.TypeChar}), "device entries"},
		"directory":           {with(tarEntry{name: "assets/", typ: tar.TypeDir}), "directory entries"},
		"nested blob folder":  {with(tarEntry{name: blobDir + "ab/", typ: tar.TypeDir}), "directory entries"},
		"fifo":                {with(tarEntry{name: "fifo", typ: tar.TypeFifo}), "named pipe entries"},
		"duplicate blob":      {with(blobs[0]), "duplicate entry"},
		"unreferenced blob":   {with(tarEntry{name: blobDir + backend.Sum([]byte("x")).Hex(), data: []byte("x")}), "not referenced"},
		"unknown entry":       {with(tarEntry{name: "README", data: []byte("x")}), "unexpected entry"},
		"duplicate signature": {with(sigE), "duplicate entry"},
		"oversized entry":     {makeTar(t, []tarEntry{manifest, {name: blobs[0].name, data: append(blobs[0].data, 'x')}}), "the manifest says"},
		"digest mismatch":     {makeTar(t, append([]tarEntry{manifest, {name: blobs[0].name, data: flipped}}, blobs[1:]...)), "does not match its digest"},
		"missing blob":        {makeTar(t, append([]tarEntry{manifest, sigE}, blobs[1:]...)), "1 blobs missing"},
		"garbage signature":   {makeTar(t, append([]tarEntry{manifest, {name: SignatureName, data: []byte("nope")}}, blobs...)), SignatureName},
		"truncated mid-blob":  {archive[:len(archive)/2+100], "truncated"},
		"truncated header":    {archive[:1024+len(manifest.data)+100], "truncated"},
		"oversized manifest":  {makeTar(t, []tarEntry{{name: ManifestName, data: make([]byte, 0)}}), "decode manifest"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			store := newLocal(t)
			m, sig, err := Import(context.Background(), bytes.NewReader(tc.archive), store)
			if err == nil || m != nil || sig != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Import = %v, want an error mentioning %q", err, tc.want)
			}
			if !errors.Is(err, ErrBadArchive) {
				t.Errorf("error does not wrap ErrBadArchive: %v", err)
			}
			assertOnlyBlobs(t, store.Root())
		})
	}
}

// assertOnlyBlobs checks that nothing but blob files exists under root.
func assertOnlyBlobs(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !d.IsDir() && (!strings.HasPrefix(rel, "sha256/") || strings.Contains(d.Name(), ".tmp")) {
			t.Errorf("unexpected file in store: %s", rel)
		}
		return nil
	})
}

func TestBuildFileVerifyFile(t *testing.T) {
	dir := sampleSite(t)
	out := filepath.Join(t.TempDir(), "release.tar")
	pub, priv, _ := sign.GenerateKey(nil)
	m, err := BuildFile(context.Background(), dir, out, &priv, nil, BuildOptions{Meta: Meta{Project: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*"))
	if len(leftovers) != 0 {
		t.Fatalf("BuildFile left %v", leftovers)
	}
	m2, _, probs, err := VerifyFile(context.Background(), out, &pub)
	if err != nil || len(probs) != 0 || mustDigest(t, m) != mustDigest(t, m2) {
		t.Fatalf("VerifyFile = %v, %v", probs, err)
	}
	other, _, _ := sign.GenerateKey(nil)
	if _, _, probs, _ := VerifyFile(context.Background(), out, &other); len(probs) != 1 {
		t.Fatalf("VerifyFile with another key: %v", probs)
	}
	if _, _, probs, _ := VerifyFile(context.Background(), out, nil); len(probs) != 1 {
		t.Fatalf("VerifyFile without key: %v", probs)
	}
	data, _ := os.ReadFile(out)
	data[len(data)-2048] ^= 1 // inside the last blob or the tar trailer
	data[3000] ^= 1           // inside an early entry
	os.WriteFile(out, data, 0o644)
	if _, _, probs, err := VerifyFile(context.Background(), out, &pub); err != nil || len(probs) == 0 {
		t.Fatalf("VerifyFile of a damaged archive = %v, %v", probs, err)
	}
	if _, _, _, err := VerifyFile(context.Background(), filepath.Join(dir, "missing.tar"), &pub); err == nil {
		t.Fatal("VerifyFile of a missing file succeeded")
	}
}

func FuzzImport(f *testing.F) {
	store, err := local.New(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	m := &Manifest{Version: FormatVersion, Files: []File{{Path: "a.txt", Digest: backend.Sum([]byte("hello")), Size: 5, Type: "text/plain"}}}
	store.Put(context.Background(), m.Files[0].Digest, strings.NewReader("hello"), 5)
	var buf bytes.Buffer
	if err := Export(context.Background(), &buf, m, nil, store); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:600])
	reordered := slices.Concat(good[1024:2048], good[:1024], good[2048:]) // the blob before the manifest
	if _, _, err := Import(context.Background(), bytes.NewReader(reordered), newDiscardStore()); err != nil {
		f.Fatalf("the blob before the manifest: %v", err)
	}
	f.Add(reordered)
	_, priv, _ := sign.GenerateKey(nil)
	sig, err := Sign(m, priv)
	if err != nil {
		f.Fatal(err)
	}
	buf.Reset()
	if err := Export(context.Background(), &buf, m, sig, store); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()) // signed
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newDiscardStore()
		m, sig, err := Import(context.Background(), bytes.NewReader(data), s)
		// Read as a stream, an archive imports only if it also does from
		// a file, as the same release.
		if ms, sigs, errs := Import(context.Background(), struct{ io.Reader }{bytes.NewReader(data)}, newDiscardStore()); errs == nil {
			if err != nil || mustDigest(t, ms) != mustDigest(t, m) || !bytes.Equal(sig, sigs) {
				t.Fatalf("a stream imported what a file did not: %v", err)
			}
		}
		// With a check (one that accepts), a file imports as without, the
		// check having seen the signature Import returns; a stream may
		// only be refused more.
		for _, r := range []io.Reader{bytes.NewReader(data), struct{ io.Reader }{bytes.NewReader(data)}} {
			var checked [][]byte
			mc, sigc, errc := ImportWith(context.Background(), r, newDiscardStore(), ImportOptions{Check: func(_ *Manifest, sig []byte) error {
				checked = append(checked, sig)
				return nil
			}})
			_, stream := r.(*bytes.Reader)
			stream = !stream
			if errc == nil && (err != nil || mustDigest(t, mc) != mustDigest(t, m) || !bytes.Equal(sigc, sig) || len(checked) != 1 || !bytes.Equal(checked[0], sig)) {
				t.Fatalf("with a check (stream %v): imported what Import did not, or checked %d signatures: %v", stream, len(checked), err)
			}
			if !stream && (errc == nil) != (err == nil) {
				t.Fatalf("with a check: %v, without: %v", errc, err)
			}
		}
		if err != nil {
			return
		}
		if _, err := m.Validate(); err != nil {
			t.Fatalf("imported an invalid manifest: %v", err)
		}
		for _, b := range m.Blobs() {
			if info, err := s.Stat(context.Background(), b.Digest); err != nil || info.Size != b.Size {
				t.Fatalf("import succeeded without blob %s: %v", b.Digest, err)
			}
		}
	})
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestVerifyResignedArchiveInTarOrder: an artifact unpacked, re-signed with
// the minisign tool and packed again by tar with the folder's entries in
// tar's order (blobs before manifest.json) verifies with minisign's key,
// read from the file; a damaged blob in such an archive is still found.
func TestVerifyResignedArchiveInTarOrder(t *testing.T) {
	tarTool, minisign := testkit.RequireTool(t, "tar", "tar"), testkit.RequireTool(t, "minisign", "minisign")
	m, _, _, archive := exported(t)
	dir := t.TempDir()
	orig, unpacked := filepath.Join(dir, "release.tar"), filepath.Join(dir, "r")
	if err := os.WriteFile(orig, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(unpacked, 0o755)
	runTool(t, tarTool, "-xf", orig, "-C", unpacked)
	os.Remove(filepath.Join(unpacked, SignatureName))
	sec, pubFile := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	runTool(t, minisign, "-G", "-W", "-p", pubFile, "-s", sec)
	runTool(t, minisign, "-S", "-s", sec, "-m", filepath.Join(unpacked, ManifestName))
	pub, err := sign.LoadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"listed":         {"blobs", SignatureName, ManifestName},
		"sorted, folder": {"--sort=name", "."}, // ./blobs/… before ./manifest.json
	} {
		t.Run(name, func(t *testing.T) {
			repacked := filepath.Join(t.TempDir(), "resigned.tar")
			runTool(t, tarTool, append([]string{"-C", unpacked, "-cf", repacked}, args...)...)
			first := strings.Fields(runTool(t, tarTool, "-tf", repacked))
			if i := slices.IndexFunc(first, func(n string) bool { return strings.HasSuffix(n, ManifestName) }); i < 2 {
				t.Fatalf("tar put %s at %d: %v", ManifestName, i, first)
			}
			m2, sig, probs, err := VerifyFile(context.Background(), repacked, &pub)
			if err != nil || len(probs) != 0 || m2 == nil || mustDigest(t, m) != mustDigest(t, m2) {
				t.Fatalf("VerifyFile = %v, %v", probs, err)
			}
			if s, _ := sign.ParseSignature(sig); s.KeyID != pub.ID() {
				t.Fatalf("signature of key %s, want minisign's %s", s.KeyID, pub.ID())
			}
			f, err := os.Open(repacked)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			store := newLocal(t)
			if _, _, err := Import(context.Background(), f, store); err != nil {
				t.Fatalf("Import from the file: %v", err)
			}
			if probs, err := Verify(context.Background(), m2, sig, &pub, store); err != nil || len(probs) != 0 {
				t.Fatalf("Verify after import: %v %v", probs, err)
			}
			assertOnlyBlobs(t, store.Root())

			// The first blob's content follows the headers of its folders and its own.
			data, _ := os.ReadFile(repacked)
			off := 3 * 512
			if name != "listed" {
				off = 4 * 512 // ./ first
			}
			data[off] ^= 1
			os.WriteFile(repacked, data, 0o644)
			if _, _, probs, err := VerifyFile(context.Background(), repacked, &pub); err != nil || len(probs) != 1 || !strings.Contains(probs[0].String(), "does not match its digest") {
				t.Fatalf("VerifyFile of a damaged blob before the manifest = %v, %v", probs, err)
			}
		})
	}
}
