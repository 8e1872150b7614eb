package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Representation is what the edge sends for one request: the file, which
// encoding of it, and the blob file to hand to sendfile(2).
type Representation struct {
	File     *File
	Encoding string // "" for the identity bytes, else a Variant encoding
	Digest   backend.Digest
	Size     int64
	BlobPath string // read-only file holding the bytes
}

// Locate finds the file at path p (a manifest path, no leading slash) and
// picks the first encoding in accept (in the client's preference order, e.g.
// ["br", "gzip"]) that the file has a variant for, else the identity bytes.
// Private files are not found. Serving straight from the blob files is what
// makes activation a pointer swap: no tree is copied per release.
func Locate(m *Manifest, store backend.Pather, p string, accept []string) (Representation, bool, error) {
	f, ok := m.Lookup(p)
	if !ok || f.Private {
		return Representation{}, false, nil
	}
	r := Representation{File: f, Digest: f.Digest, Size: f.Size}
	for _, enc := range accept {
		if v, ok := f.Variant(enc); ok {
			r.Encoding, r.Digest, r.Size = enc, v.Digest, v.Size
			break
		}
	}
	bp, err := store.Path(r.Digest)
	if err != nil {
		return Representation{}, false, fmt.Errorf("serve %s: %w", p, err)
	}
	r.BlobPath = bp
	return r, true, nil
}

// Materialize lays the release out as a plain folder at dst (which must not
// exist) for tools that want one, e.g. nginx with gzip_static: each file is a
// hard link to its blob (no bytes copied; a copy when dst is on another
// filesystem), variants become "x.gz" / "x.br" siblings, private files are
// left out. Blob files are read-only, and so are the links.
func Materialize(ctx context.Context, m *Manifest, store backend.Pather, dst string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return fmt.Errorf("materialize: %w", err)
	}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.Private {
			continue
		}
		if err := place(store, f.Digest, filepath.Join(dst, filepath.FromSlash(f.Path))); err != nil {
			return err
		}
		for _, v := range f.Variants {
			ext := map[string]string{EncodingGzip: ".gz", EncodingBrotli: ".br", EncodingZstd: ".zst"}[v.Encoding]
			if _, clash := m.Lookup(f.Path + ext); clash || ext == "" {
				continue
			}
			if err := place(store, v.Digest, filepath.Join(dst, filepath.FromSlash(f.Path+ext))); err != nil {
				return err
			}
		}
	}
	return nil
}

func place(store backend.Pather, d backend.Digest, to string) error {
	from, err := store.Path(d)
	if err != nil {
		return fmt.Errorf("materialize %s: %w", to, err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("materialize: %w", err)
	}
	if err := os.Link(from, to); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrExist) && !isCrossDevice(err) {
		return fmt.Errorf("materialize %s: %w", to, err)
	}
	return copyFile(from, to)
}

// isCrossDevice reports a link that the filesystem cannot make (another
// device, or a filesystem without hard links).
func isCrossDevice(err error) bool {
	return errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("materialize %s: %w", to, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("materialize %s: %w", to, err)
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("materialize %s: %w", to, err)
	}
	return nil
}
