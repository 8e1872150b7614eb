package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// BuildOptions tune Build. The zero value is a sensible default.
type BuildOptions struct {
	// Meta is copied into the manifest; Created defaults to now (UTC).
	Meta Meta
	// FollowSymlinks follows symlinks to files inside the folder; without it
	// such links are an error. Links pointing outside are always an error.
	FollowSymlinks bool
	// Exclude lists path.Match patterns, matched against the relative path
	// and the base name, of files and folders to leave out (e.g. ".git");
	// one that starts with / only against the whole relative path
	// ("/phoenix.yaml": that file at the top, not sub/phoenix.yaml).
	Exclude []string
	// PublicSourceMaps serves *.map files; by default they are Private.
	PublicSourceMaps bool
	// HTMLIntegrity adds integrity="sha384-..." to <script src> and
	// <link rel=stylesheet|modulepreload href> tags in HTML files that point
	// at files of the release; the HTML's digest is then of the new bytes.
	HTMLIntegrity bool
	// LinkFiles hard-links files into the store instead of copying their
	// bytes, when the store supports it (backend.Linker) and is on the same
	// filesystem; otherwise they are copied. The files become read-only, and
	// must not be modified in place afterwards (build tools that delete and
	// re-create their output are fine). Use it for throwaway build output.
	LinkFiles bool
	// BrotliLevel and GzipLevel set precompression (0: DefaultBrotliLevel,
	// DefaultGzipLevel; negative: off).
	BrotliLevel, GzipLevel int
	// Workers is the number of files processed at once (0: GOMAXPROCS).
	Workers int
	// CacheFile, if set, keeps each file's digest by its stat data and each
	// content's variants by digest, so a re-build of the same folder only
	// reads and compresses the files that changed. It is created if missing
	// and ignored if damaged. Keep it outside the folder.
	CacheFile string
	// Previous manifests (e.g. the release being replaced) lend their
	// variants to unchanged content, after a Stat shows they are stored.
	Previous []*Manifest
	// Progress, if set, is called after each file from one goroutine at a
	// time, with totals known from the start.
	Progress func(Progress)
}

// Progress reports how far a Build is.
type Progress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
}

func (o *BuildOptions) levels() (br, gz int) {
	br, gz = o.BrotliLevel, o.GzipLevel
	if br == 0 {
		br = DefaultBrotliLevel
	}
	if gz == 0 {
		gz = DefaultGzipLevel
	}
	return br, gz
}

// Build walks dir, stores every file's bytes and precompressed variants in
// store and returns the release's manifest. Blobs the store already has are
// not written again. Only regular files are taken: devices, sockets, pipes and
// symlinks pointing outside dir are errors naming the path. If store
// implements backend.Batcher the blobs are written as one batch that becomes
// visible when Build succeeds. Build stops early when ctx is cancelled.
func Build(ctx context.Context, dir string, store backend.Backend, opts BuildOptions) (*Manifest, error) {
	files, root, err := walk(dir, &opts)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if len(files) == 0 {
		return nil, errNoFiles(dir, &opts)
	}
	files = groupSiblings(files)
	b, err := newBuilder(ctx, store, &opts, files)
	if err != nil {
		return nil, err
	}
	m, err := b.run(ctx, files)
	if err != nil {
		if b.batch != nil {
			b.batch.Abort()
		}
		return nil, err
	}
	if b.batch != nil {
		if err := b.batch.Commit(ctx); err != nil {
			return nil, fmt.Errorf("build %s: %w", dir, err)
		}
	}
	if err := b.next.save(opts.CacheFile); err != nil {
		m.Warnings = append(m.Warnings, err.Error())
	}
	return m, nil
}

// errNoFiles is Build's refusal of dir, which holds no file to take (none
// at all, or only folders and files opts excludes): a release of no files
// would put a site live that answers 404 on every path. It is usually the
// wrong folder (the project rather than its build output) or a build not
// run yet.
func errNoFiles(dir string, opts *BuildOptions) error {
	what := "the folder is empty"
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		what = "the folder holds only empty folders"
		if len(opts.Exclude) > 0 {
			what += " or files left out (" + strings.Join(opts.Exclude, ", ") + ")"
		}
	}
	return usererr.New(usererr.Invalid, "build %s: no files to deploy: %s", dir, what).
		WithHint("deploy the folder your build writes its output to (e.g. dist/ after 'npm run build'), and check the path")
}

// builder holds the state shared by the workers of one Build.
type builder struct {
	opts  *BuildOptions
	store backend.Backend
	put   func(ctx context.Context, d backend.Digest, r []byte) error
	batch backend.Batch
	comp  *compressor
	old   *buildCache // read-only during the run
	next  *buildCache // written by the collector only
	prev  map[backend.Digest]genRecord
	sri   map[string]string // path -> integrity, complete before HTML is rewritten

	prog     Progress // collector only
	warnings []string // collector only
}

func newBuilder(ctx context.Context, store backend.Backend, opts *BuildOptions, files []*entry) (*builder, error) {
	br, gz := opts.levels()
	settings := fmt.Sprintf("br=%d gz=%d", br, gz)
	b := &builder{opts: opts, store: store, comp: newCompressor(br, gz),
		old: loadCache(opts.CacheFile, settings), next: newCache(settings),
		prev: map[backend.Digest]genRecord{}, sri: map[string]string{}}
	for _, m := range opts.Previous {
		for _, f := range m.Files {
			if len(f.Variants) > 0 {
				g := genRecord{Variants: f.Variants}
				for _, v := range f.Variants {
					g.Tried = append(g.Tried, v.Encoding)
				}
				b.prev[f.Digest] = g
			}
		}
	}
	if bt, ok := store.(backend.Batcher); ok {
		b.batch = bt.Batch()
	}
	b.put = b.putBlob
	for _, e := range files {
		b.prog.TotalFiles++
		b.prog.TotalBytes += e.info.Size()
	}
	return b, ctx.Err()
}

// run processes non-HTML files first (their SRI hashes are needed to
// rewrite HTML), then HTML files.
func (b *builder) run(ctx context.Context, files []*entry) (*Manifest, error) {
	var first, html []*entry
	for _, e := range files {
		if b.opts.HTMLIntegrity && isHTML(e.rel) {
			html = append(html, e)
		} else {
			first = append(first, e)
		}
	}
	out, err := b.parallel(ctx, first)
	if err != nil {
		return nil, err
	}
	for _, f := range out {
		if f.Integrity != "" {
			b.sri[f.Path] = f.Integrity
		}
	}
	out2, err := b.parallel(ctx, html)
	if err != nil {
		return nil, err
	}
	// Warnings is never nil, so a JSON summary lists none as [], not null.
	m := &Manifest{Version: FormatVersion, Meta: b.opts.Meta, Files: append(out, out2...), Warnings: []string{}}
	if m.Meta.Created.IsZero() {
		m.Meta.Created = time.Now().UTC().Truncate(time.Second)
	}
	m.Sort()
	w, err := m.Validate()
	if err != nil {
		return nil, err
	}
	m.Warnings = append(m.Warnings, w...)
	m.Warnings = append(m.Warnings, b.warnings...)
	return m, nil
}

// result is what a worker learned about one file.
type result struct {
	files    []File // the file, plus a sibling that was not a valid variant
	cache    cacheEntry
	rel      string
	sibCache []relEntry // cache entries of siblings used as variants
	gen      *genRecord // compression decisions for src
	src      backend.Digest
	warn     string
	bytes    int64
}

// parallel runs process over files with opts.Workers goroutines and collects
// the results in one goroutine.
func (b *builder) parallel(ctx context.Context, files []*entry) ([]File, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan *entry)
	results := make(chan result)
	var wg sync.WaitGroup
	for range b.workers() {
		wg.Go(func() {
			for e := range jobs {
				r, err := b.process(ctx, e)
				if err != nil {
					cancel(err)
					return
				}
				results <- r
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, e := range files {
			select {
			case jobs <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var out []File
	for r := range results {
		out = append(out, r.files...)
		b.record(r)
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *builder) workers() int {
	if b.opts.Workers > 0 {
		return b.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// record updates the next cache and the progress (collector goroutine only).
func (b *builder) record(r result) {
	if r.cache.Digest != "" {
		b.next.Files[r.rel] = r.cache
	}
	for _, c := range r.sibCache {
		b.next.Files[c.rel] = c.entry
	}
	if r.gen != nil {
		b.next.Variants[r.src] = *r.gen
	}
	if r.warn != "" {
		b.warnings = append(b.warnings, r.warn)
	}
	b.prog.Files++
	b.prog.Bytes += r.bytes
	if b.opts.Progress != nil {
		b.opts.Progress(b.prog)
	}
}

var errFileChanged = errors.New("file changed while it was being read")

// readFile reads e into a pooled buffer, which the caller returns with
// putBuf once done with the bytes.
func readFile(e *entry) ([]byte, *[]byte, error) {
	f, err := e.open()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", e.abs, err)
	}
	defer f.Close()
	size := int(e.info.Size())
	p := getBuf(size + 1)
	buf := (*p)[:size+1]
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		putBuf(p)
		return nil, nil, fmt.Errorf("read %s: %w", e.abs, err)
	}
	if n != size {
		putBuf(p)
		return nil, nil, fmt.Errorf("read %s: %w (size was %d); build again once it is written", e.abs, errFileChanged, size)
	}
	return buf[:n], p, nil
}
