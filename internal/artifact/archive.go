package artifact

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
)

// Entry names inside an artifact archive.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.json.minisig"
	blobsDir      = "blobs/"
	blobDir       = blobsDir + backend.Algorithm + "/"
)

// ErrBadArchive is wrapped by every error about the archive's content (as
// opposed to I/O or store errors).
var ErrBadArchive = errors.New("bad artifact archive")

// Export writes the release as one tar stream: manifest.json (canonical
// bytes) first, then manifest.json.minisig if sig is not empty, then every
// blob once, as blobs/sha256/<hex>, in digest order. Each blob is checked
// against its digest on the way out, so a damaged store cannot produce an
// archive that looks good.
func Export(ctx context.Context, w io.Writer, m *Manifest, sig []byte, store backend.Backend) error {
	data, err := m.Canonical()
	if err != nil {
		return err
	}
	mtime := m.Meta.Created
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	tw := tar.NewWriter(w)
	if err := writeEntry(tw, ManifestName, int64(len(data)), mtime, strings.NewReader(string(data))); err != nil {
		return err
	}
	if len(sig) > 0 {
		if err := writeEntry(tw, SignatureName, int64(len(sig)), mtime, strings.NewReader(string(sig))); err != nil {
			return err
		}
	}
	for _, b := range m.Blobs() {
		if err := exportBlob(ctx, tw, store, b, mtime); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func exportBlob(ctx context.Context, tw *tar.Writer, store backend.Backend, b backend.Info, mtime time.Time) error {
	rc, err := store.Get(ctx, b.Digest)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rc.Close()
	hdr := &tar.Header{Name: blobDir + b.Digest.Hex(), Mode: 0o444, Size: b.Size, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("export %s: %w", b.Digest, err)
	}
	if _, err := backend.CopyVerified(ctx, tw, rc, b.Digest, b.Size); err != nil {
		return fmt.Errorf("export: stored blob is damaged or changed: %w", err)
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, size int64, mtime time.Time, r io.Reader) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	return nil
}

// Import reads an artifact archive, storing every blob in store (each
// checked against its digest by the store) and returns the manifest and
// signature (nil if the archive has none). It does not check the
// signature: call Verify or VerifySignature before trusting the release,
// or ImportWith with a Check to have it checked before anything is stored.
//
// The entries may come in any order, as tar packs an unpacked artifact
// (tar -C dir -cf a.tar . puts them in the folder's order): blobs are only
// stored once the manifest is known, so when it is not the first entry r is
// read twice, once for the manifest, skipping the blobs, then from where it
// started for the blobs. That takes an r that can seek, such as an
// *os.File (read through a buffer here); a stream that cannot must start
// with manifest.json, as Export writes it.
//
// It rejects, with an error wrapping ErrBadArchive and naming the entry:
// an archive without manifest.json (or a stream not starting with it), an
// invalid or non-canonical manifest, unsafe names (absolute, "..",
// backslash), links, devices and any non-regular entry (but the folders
// blobs/ and blobs/sha256/, which are skipped), unknown or duplicate
// entries, entries larger than the manifest says, blobs whose bytes do not
// match their digest, and a truncated archive or one missing blobs the
// store does not already have. Nothing is written outside store, and only
// blobs the manifest names; on error, blobs already stored stay (they are
// complete and content-addressed) but no manifest is returned.
func Import(ctx context.Context, r io.Reader, store backend.Backend) (*Manifest, []byte, error) {
	return ImportWith(ctx, r, store, ImportOptions{})
}

// ImportOptions tune ImportWith.
type ImportOptions struct {
	// Check, when set, is called once with the manifest and the archive's
	// signature (nil if it has none) before any blob is stored, e.g. to
	// verify the signature with VerifySignature. An error from it ends the
	// import with nothing stored and is returned as it is (it wraps
	// ErrBadArchive only if Check's does). Of an r that can seek, the
	// signature is taken in the first reading, wherever it lies (so the
	// headers after the manifest are read then too, up to the signature);
	// a stream must have it after manifest.json and before the first blob,
	// as Export writes it, or it is refused.
	Check func(m *Manifest, sig []byte) error
}

// ImportWith is Import with options.
func ImportWith(ctx context.Context, r io.Reader, store backend.Backend, opts ImportOptions) (*Manifest, []byte, error) {
	a, err := openArchive(ctx, r, opts.Check != nil)
	if err != nil {
		return nil, nil, err
	}
	need := map[backend.Digest]int64{}
	for _, b := range a.m.Blobs() {
		need[b.Digest] = b.Size
	}
	im := importer{tr: a.tr, store: store, need: need, seen: map[backend.Digest]bool{}, manifestRead: a.manifestRead,
		m: a.m, check: opts.Check}
	if a.sigRead { // a file: the signature, if any, was found in the first reading
		if err := im.runCheck(a.sig); err != nil {
			return nil, nil, err
		}
	}
	if bt, ok := store.(backend.Batcher); ok {
		im.batch = bt.Batch()
	}
	sig, err := im.readRest(ctx)
	if err == nil {
		err = im.checkComplete(ctx)
	}
	if im.batch != nil {
		if err != nil {
			im.batch.Abort()
			return nil, nil, err
		}
		err = im.batch.Commit(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	return a.m, sig, nil
}

// opened is an archive whose manifest is read, with a tar reader to read
// the rest from. Of an r that can seek, that reader starts where r started
// (manifestRead false: the manifest entry is passed over when met again);
// of a stream, it goes on after the manifest, which must come first.
// sigRead says the signature was looked for in the first reading too (sig,
// nil if there is none).
type opened struct {
	m                     *Manifest
	tr                    *tar.Reader
	manifestRead, sigRead bool
	sig                   []byte
}

// openArchive reads the manifest, and of an r that can seek, when
// withSig, the signature too.
func openArchive(ctx context.Context, r io.Reader, withSig bool) (opened, error) {
	var a opened
	rs, ok := r.(io.Seeker)
	var start int64
	var err error
	if ok {
		start, err = rs.Seek(0, io.SeekCurrent)
		ok = err == nil // os.Stdin and pipes are io.Seekers that cannot
	}
	if !ok {
		a.tr = tar.NewReader(r)
		a.m, err = readManifestEntry(a.tr, true)
		if nm := (notManifest{}); errors.As(err, &nm) {
			err = badf("first entry is %q, want %s (an archive read as a stream, not from a file, must start with it)", nm.name, ManifestName)
		}
		a.manifestRead = true
		return a, err
	}
	// Unbuffered, so tar seeks over the entries before the manifest.
	tr := tar.NewReader(r)
	if a.m, a.sig, err = findManifest(ctx, tr, withSig); err != nil {
		return a, err
	}
	a.sigRead = withSig
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return a, fmt.Errorf("import: reading the archive again: %w", err)
	}
	if _, isFile := r.(*os.File); isFile {
		r = bufio.NewReaderSize(r, 1<<20)
	}
	a.tr = tar.NewReader(r)
	return a, nil
}

// findManifest reads entries' headers up to manifest.json and returns the
// manifest and, when withSig, the signature (nil if the archive has none),
// reading up to it too when it comes later. Only headers are read on the
// way (each checked as usual); the other entries' content is passed over.
func findManifest(ctx context.Context, tr *tar.Reader, withSig bool) (*Manifest, []byte, error) {
	var m *Manifest
	var sig []byte
	for first := true; m == nil || withSig && sig == nil; first = false {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		hdr, err := next(tr)
		switch {
		case err == io.EOF && first:
			return nil, nil, badf("archive is empty")
		case err == io.EOF && m == nil:
			return nil, nil, badf("archive has no %s", ManifestName)
		case err == io.EOF:
			return m, nil, nil
		case err != nil:
			return nil, nil, err
		case hdr.Name == ManifestName && m != nil, hdr.Name == SignatureName && withSig && sig != nil:
			return nil, nil, badf("entry %q: duplicate entry", hdr.Name)
		case hdr.Name == ManifestName:
			m, err = readManifest(tr, hdr)
		case hdr.Name == SignatureName && withSig:
			sig, err = readSignature(tr, hdr)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return m, sig, nil
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadArchive, fmt.Sprintf(format, args...))
}

// layoutDir reports whether hdr is the entry of a folder of the archive's
// own layout, blobs/ or blobs/sha256/, which tar adds when an unpacked
// artifact is packed again (tar -cf a.tar manifest.json
// manifest.json.minisig blobs, e.g. after signing it with minisign). Such an
// entry carries nothing and is skipped; any other folder is refused.
func layoutDir(hdr *tar.Header) bool {
	name := strings.TrimSuffix(hdr.Name, "/") + "/"
	return hdr.Typeflag == tar.TypeDir && (name == blobsDir || name == blobDir)
}

// next reads the next header, turning tar errors into clear ones.
func next(tr *tar.Reader) (*tar.Header, error) {
	for {
		hdr, err := tr.Next()
		switch {
		case err == io.EOF:
			return nil, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, badf("archive is truncated")
		case err != nil:
			return nil, badf("unreadable tar header: %v", err)
		}
		// tar names entries "./manifest.json" when given ./-paths
		// (tar -cf a.tar ./manifest.json ./manifest.json.minisig ./blobs):
		// the same entries, and "./" itself is no entry of the layout.
		if rest, ok := strings.CutPrefix(hdr.Name, "./"); ok {
			hdr.Name = rest
			if rest == "" && hdr.Typeflag == tar.TypeDir {
				continue
			}
		}
		if layoutDir(hdr) {
			continue
		}
		if err := checkHeader(hdr); err != nil {
			return nil, err
		}
		return hdr, nil
	}
}

func checkHeader(hdr *tar.Header) error {
	name := hdr.Name
	if hdr.Typeflag == tar.TypeDir { // before the name: tar writes folders as "name/"
		return badf("entry %q: directory entries are not allowed, only regular files (and the folders %s and %s)", clip(name), blobsDir, blobDir)
	}
	if err := ValidatePath(name); err != nil {
		return badf("entry %q: unsafe name: %v", clip(name), err)
	}
	if hdr.Typeflag != tar.TypeReg { // tar.Reader turns the old TypeRegA into TypeReg
		return badf("entry %q: %s entries are not allowed, only regular files", name, typeName(hdr.Typeflag))
	}
	if hdr.Size < 0 {
		return badf("entry %q: negative size", name)
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeDir:
		return "directory"
	case tar.TypeFifo:
		return "named pipe"
	default:
		return fmt.Sprintf("type %q", t)
	}
}

// notManifest is readManifestEntry's answer for another entry.
type notManifest struct{ name string }

func (e notManifest) Error() string { return fmt.Sprintf("entry %q is not %s", e.name, ManifestName) }

// readManifestEntry reads the next entry as the manifest. An archive with
// no entry at all is "empty", one that ends before its manifest has none.
func readManifestEntry(tr *tar.Reader, first bool) (*Manifest, error) {
	hdr, err := next(tr)
	switch {
	case err == io.EOF && first:
		return nil, badf("archive is empty")
	case err == io.EOF:
		return nil, badf("archive has no %s", ManifestName)
	case err != nil:
		return nil, err
	}
	if hdr.Name != ManifestName {
		return nil, notManifest{hdr.Name}
	}
	return readManifest(tr, hdr)
}

// readManifest reads the manifest from its entry, which must hold it in
// canonical form.
func readManifest(tr *tar.Reader, hdr *tar.Header) (*Manifest, error) {
	if hdr.Size > MaxManifestSize {
		return nil, badf("%s is %d bytes, at most %d allowed", ManifestName, hdr.Size, MaxManifestSize)
	}
	data, err := readAll(tr, hdr)
	if err != nil {
		return nil, err
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadArchive, ManifestName, err)
	}
	if c, err := m.Canonical(); err != nil || string(c) != string(data) {
		return nil, badf("%s is not in canonical form (was it edited by hand?)", ManifestName)
	}
	return m, nil
}

func readAll(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return nil, badf("entry %q is truncated", hdr.Name)
	}
	return data, nil
}

// importer holds the state of one Import once the manifest is known.
type importer struct {
	tr           *tar.Reader
	store        backend.Backend
	batch        backend.Batch
	need         map[backend.Digest]int64
	seen         map[backend.Digest]bool
	manifestRead bool // the manifest's entry is behind tr
	m            *Manifest
	check        func(*Manifest, []byte) error // ImportOptions.Check
	checked      bool                          // check ran (or there is none), on checkedSig
	checkedSig   []byte
}

// runCheck runs the import's check, once, on the manifest and sig.
func (im *importer) runCheck(sig []byte) error {
	im.checked, im.checkedSig = true, sig
	if im.check == nil {
		return nil
	}
	return im.check(im.m, sig)
}

// readRest reads the optional signature and the blobs, and passes over the
// manifest's entry (read already) when tr meets it again.
func (im *importer) readRest(ctx context.Context) ([]byte, error) {
	var sig []byte
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := next(im.tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case hdr.Name == ManifestName && !im.manifestRead:
			im.manifestRead = true // tar skips its content
		case hdr.Name == ManifestName || hdr.Name == SignatureName && sig != nil:
			return nil, badf("entry %q: duplicate entry", hdr.Name)
		case hdr.Name == SignatureName:
			if sig, err = readSignature(im.tr, hdr); err != nil {
				return nil, err
			}
			if !im.checked { // a stream: the signature before the blobs
				if err := im.runCheck(sig); err != nil {
					return nil, err
				}
			}
		default:
			if !im.checked && im.check != nil {
				return nil, badf("entry %q comes before %s: an archive read as a stream, not from a file, must have its signature right after %s, before the blobs (as phoenix artifact build writes it), for it to be checked before anything is stored", clip(hdr.Name), SignatureName, ManifestName)
			}
			if err := im.readBlob(ctx, hdr); err != nil {
				return nil, err
			}
		}
	}
	if !im.manifestRead { // the file changed between the two readings
		return nil, badf("archive changed while read: %s is gone", ManifestName)
	}
	if !im.checked { // a stream without signature nor blobs
		if err := im.runCheck(nil); err != nil {
			return nil, err
		}
	} else if !bytes.Equal(sig, im.checkedSig) { // a file changed between the two readings
		return nil, badf("archive changed while read: %s is not the one checked", SignatureName)
	}
	return sig, nil
}

func readSignature(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	if hdr.Size > sign.MaxSignatureSize {
		return nil, badf("%s is %d bytes, at most %d allowed", SignatureName, hdr.Size, sign.MaxSignatureSize)
	}
	sig, err := readAll(tr, hdr)
	if err != nil {
		return nil, err
	}
	if _, err := sign.ParseSignature(sig); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadArchive, SignatureName, err)
	}
	return sig, nil
}

func (im *importer) readBlob(ctx context.Context, hdr *tar.Header) error {
	hexPart, ok := strings.CutPrefix(hdr.Name, blobDir)
	if !ok || path.Base(hdr.Name) != hexPart {
		return badf("unexpected entry %q (only %s, %s and %s<hex> belong here)", hdr.Name, ManifestName, SignatureName, blobDir)
	}
	d := backend.Digest(backend.Algorithm + ":" + hexPart)
	size, wanted := im.need[d]
	switch {
	case d.Validate() != nil:
		return badf("entry %q: not a blob name", hdr.Name)
	case !wanted:
		return badf("entry %q: blob is not referenced by the manifest", hdr.Name)
	case im.seen[d]:
		return badf("entry %q: duplicate entry", hdr.Name)
	case hdr.Size != size:
		return badf("entry %q: %d bytes, the manifest says %d", hdr.Name, hdr.Size, size)
	}
	im.seen[d] = true
	// Hash the entry ourselves: a store that already has the blob may skip
	// reading it, and a damaged archive must be refused all the same.
	h := backend.NewHash()
	r := io.TeeReader(im.tr, h)
	var err error
	if im.batch != nil {
		err = im.batch.Put(ctx, d, r, size)
	} else {
		err = im.store.Put(ctx, d, r, size)
	}
	if err == nil {
		if _, err = io.Copy(io.Discard, r); err == nil && backend.FromHash(h.Sum(nil)) != d {
			err = fmt.Errorf("%w: content hashes to %s", backend.ErrDigestMismatch, backend.FromHash(h.Sum(nil)))
		}
	}
	switch {
	case errors.Is(err, backend.ErrDigestMismatch) || errors.Is(err, backend.ErrSizeMismatch):
		return fmt.Errorf("%w: entry %q: %w", ErrBadArchive, hdr.Name, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badf("entry %q is truncated", hdr.Name)
	}
	return err
}

// checkComplete fails if a referenced blob was neither in the archive nor
// already in the store.
func (im *importer) checkComplete(ctx context.Context) error {
	var missing []string
	for d := range im.need {
		if im.seen[d] {
			continue
		}
		if _, err := im.store.Stat(ctx, d); errors.Is(err, backend.ErrNotFound) {
			missing = append(missing, string(d))
		} else if err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return badf("archive is truncated or incomplete: %d blobs missing (e.g. %s)", len(missing), missing[0])
	}
	return nil
}
