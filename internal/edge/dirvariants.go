package edge

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// genPrefix starts the Blob of a generated variant. A DirSite's own blobs are
// paths relative to its folder, which never start with "/", so Open can tell
// the two apart without a lookup.
const genPrefix = "/"

// compressedSite is a DirSite plus br and gzip variants generated for its
// compressible files that have no precompressed sibling, kept in a private
// folder: the served folder is never written to. It shares the DirSite's
// folder handle, which its owner closes.
type compressedSite struct {
	base  *DirSite
	gen   *os.Root
	id    string
	files map[string]*File
}

var _ Site = (*compressedSite)(nil)

// ID implements Site: the folder's release id, marked as compressed.
func (s *compressedSite) ID() string { return s.id }

// Config implements Site.
func (s *compressedSite) Config() *swa.Config { return s.base.cfg }

// Lookup implements Site.
func (s *compressedSite) Lookup(p string) *File { return s.files[p] }

// Open implements Site: generated variants from the private folder, every
// other blob from the served one.
func (s *compressedSite) Open(blob string) (*os.File, error) {
	rel, ok := strings.CutPrefix(blob, genPrefix)
	if !ok {
		return s.base.Open(blob)
	}
	f, err := s.gen.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("edge: open variant %s: %w", rel, err)
	}
	return f, nil
}

// Close releases the private folder's handle (not the served folder's).
func (s *compressedSite) Close() error { return s.gen.Close() }

// compressDir writes the variants base's compressible files lack (all of
// them for a file with no sibling, br for one with only a .gz) into the
// existing folder gen, using workers goroutines, and returns the site
// serving them and how many files got at least one.
func compressDir(ctx context.Context, base *DirSite, gen string, workers int) (*compressedSite, int, error) {
	root, err := os.OpenRoot(gen)
	if err != nil {
		return nil, 0, fmt.Errorf("edge: open variants folder: %w", err)
	}
	p := artifact.NewPrecompressor()
	var todo []*File
	for _, f := range base.files {
		if artifact.Compressible(f.ContentType, f.Identity.Size) && lacksEncoding(f, p.Encodings()) {
			todo = append(todo, f)
		}
	}
	made, err := compressAll(ctx, base, root, p, todo, max(workers, 1))
	if err != nil {
		root.Close()
		return nil, 0, err
	}
	s := &compressedSite{base: base, gen: root, id: base.id + "+compressed", files: make(map[string]*File, len(base.files))}
	for p, f := range base.files {
		s.files[p] = withVariants(f, made[p])
	}
	return s, len(made), nil
}

// compressAll compresses todo with workers goroutines; the result maps a
// path to its generated variants (files that shrink by too little get none).
func compressAll(ctx context.Context, base *DirSite, gen *os.Root, p *artifact.Precompressor, todo []*File, workers int) (map[string][]Representation, error) {
	out := make([][]Representation, len(todo))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(todo) && errs[w] == nil; i += workers {
				if errs[w] = ctx.Err(); errs[w] == nil {
					out[i], errs[w] = compressFile(base, gen, p, todo[i])
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	made := make(map[string][]Representation)
	for i, reps := range out {
		if len(reps) > 0 {
			made[todo[i].Path] = reps
		}
	}
	return made, nil
}

// compressFile writes f's variants into gen under f's own path plus .br or
// .gz. A file that changed size since the folder was indexed gets none: its
// variants would not match the identity the site serves.
func compressFile(base *DirSite, gen *os.Root, p *artifact.Precompressor, f *File) ([]Representation, error) {
	rel := f.Identity.Blob
	data, err := base.root.ReadFile(rel)
	if err != nil {
		return nil, fmt.Errorf("edge: compress %s: %w", rel, err)
	}
	if int64(len(data)) != f.Identity.Size {
		return nil, nil
	}
	if dir := path.Dir(rel); dir != "." {
		if err := gen.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("edge: compress %s: %w", rel, err)
		}
	}
	var reps []Representation
	err = p.Compress(data, encodingsOf(f), func(enc string, c []byte) error {
		name := rel + variantSuffix(enc)
		if err := gen.WriteFile(name, c, 0o600); err != nil {
			return fmt.Errorf("edge: compress %s: %w", rel, err)
		}
		sum := sha256.Sum256(c)
		reps = append(reps, Representation{Encoding: enc, Blob: genPrefix + name, Size: int64(len(c)),
			ETag: strongETag(sum[:])})
		return nil
	})
	return reps, err
}

// encodingsOf returns the encodings f has variants in.
func encodingsOf(f *File) []string {
	encs := make([]string, len(f.Encoded))
	for i := range f.Encoded {
		encs[i] = f.Encoded[i].Encoding
	}
	return encs
}

// lacksEncoding reports whether f has no variant in one of encs.
func lacksEncoding(f *File, encs []string) bool {
	have := encodingsOf(f)
	for _, enc := range encs {
		if !slices.Contains(have, enc) {
			return true
		}
	}
	return false
}

// variantSuffix returns the sibling suffix of an encoding (".br" for br).
func variantSuffix(enc string) string {
	for _, v := range variantSuffixes {
		if v.encoding == enc {
			return v.suffix
		}
	}
	return "." + enc
}

// withVariants returns a fresh copy of f (the edge caches headers on a
// File, per release) with gen added to its variants.
func withVariants(f *File, gen []Representation) *File {
	c := &File{Path: f.Path, ContentType: f.ContentType, ModTime: f.ModTime, Identity: copyRep(&f.Identity)}
	for i := range f.Encoded {
		c.Encoded = append(c.Encoded, copyRep(&f.Encoded[i]))
	}
	for i := range gen {
		c.Encoded = append(c.Encoded, copyRep(&gen[i]))
	}
	return c
}

// copyRep copies a Representation's fields, not its header cache.
func copyRep(r *Representation) Representation {
	return Representation{Encoding: r.Encoding, Blob: r.Blob, Size: r.Size, ETag: r.ETag}
}

// compressWorkers is how many goroutines compress a folder: half the
// cores, so the site keeps answering while it runs.
func compressWorkers() int { return max(runtime.GOMAXPROCS(0)/2, 1) }
