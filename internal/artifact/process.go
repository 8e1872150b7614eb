package artifact

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/mediatype"
)

// maxInMemory: larger files are streamed (hashed and stored without being
// held in memory), not precompressed and not rewritten. A variable for tests.
var maxInMemory int64 = maxCompressSize

// fileJob is the state of one file while a worker handles it.
type fileJob struct {
	b     *builder
	e     *entry
	f     File
	data  []byte // the bytes f.Digest names, once loaded
	cache cacheEntry
	bufs  []*[]byte // pooled buffers to return when done
}

// keep registers a pooled buffer to return when the job is done.
func (j *fileJob) hold(p *[]byte) {
	if p != nil {
		j.bufs = append(j.bufs, p)
	}
}

func (j *fileJob) free() {
	for _, p := range j.bufs {
		putBuf(p)
	}
	j.bufs = nil
}

// process hashes, stores and precompresses one file (and its siblings).
func (b *builder) process(ctx context.Context, e *entry) (result, error) {
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	if e.info.Size() > maxInMemory {
		return b.processLarge(ctx, e)
	}
	j := &fileJob{b: b, e: e, f: File{Path: e.rel, Private: isSourceMap(e.rel) && !b.opts.PublicSourceMaps}}
	defer j.free()
	if err := j.identify(); err != nil {
		return result{}, err
	}
	if err := j.store(ctx); err != nil {
		return result{}, err
	}
	r := result{rel: e.rel, cache: j.cache, bytes: e.info.Size(), src: j.f.Digest}
	extra, err := j.variants(ctx, &r)
	if err != nil {
		return result{}, err
	}
	r.files = append([]File{j.f}, extra...)
	return r, nil
}

// identify fills in digest, size, type and integrity, from the cache when
// the file is unchanged, else by reading it.
func (j *fileJob) identify() error {
	rewrite := j.b.opts.HTMLIntegrity && isHTML(j.e.rel)
	st := statOf(j.e.info)
	if c, ok := j.b.old.lookup(j.e.rel, st); ok && c.VariantOf == "" && c.Type != "" &&
		(rewrite == (c.Refs != nil)) && (!rewrite || j.b.refsCurrent(c.Refs)) {
		j.cache = c
		j.f.Digest, j.f.Size, j.f.Type, j.f.Integrity = c.Digest, c.Size, c.Type, c.Integrity
		return nil
	}
	hashed := time.Now().UnixNano()
	data, refs, err := j.load()
	if err != nil {
		return err
	}
	j.data = data
	j.f.Digest, j.f.Size = backend.Sum(data), int64(len(data))
	j.f.Type = mediatype.Of(j.e.rel, data[:min(len(data), 512)])
	if wantsSRI(j.e.rel) {
		j.f.Integrity = sri384(data)
	}
	j.cache = cacheEntry{Stat: st, Hashed: hashed, Digest: j.f.Digest, Size: j.f.Size,
		Type: j.f.Type, Integrity: j.f.Integrity, Refs: refs}
	return nil
}

// load reads the file, rewriting HTML if asked to.
func (j *fileJob) load() ([]byte, map[string]string, error) {
	data, p, err := readFile(j.e)
	if err != nil {
		return nil, nil, err
	}
	j.hold(p)
	if j.b.opts.HTMLIntegrity && isHTML(j.e.rel) {
		out, refs := rewriteHTML(j.e.rel, data, j.b.sri)
		return out, refs, nil
	}
	return data, nil, nil
}

// content returns the bytes f.Digest names, reading them if the identity
// came from the cache.
func (j *fileJob) content() ([]byte, error) {
	if j.data != nil {
		return j.data, nil
	}
	data, _, err := j.load()
	if err != nil {
		return nil, err
	}
	if backend.Sum(data) != j.f.Digest {
		return nil, fmt.Errorf("read %s: %w; build again", j.e.abs, errFileChanged)
	}
	j.data = data
	return data, nil
}

// store puts the file's blob unless the store has it, hard-linking the file
// when opts.LinkFiles allows (and its bytes were not rewritten).
func (j *fileJob) store(ctx context.Context) error {
	rewritten := j.b.opts.HTMLIntegrity && isHTML(j.e.rel)
	if !j.b.opts.LinkFiles || rewritten || j.b.linker() == nil {
		return j.b.putIfMissing(ctx, j.f.Digest, j.content)
	}
	if _, err := j.b.store.Stat(ctx, j.f.Digest); err == nil {
		return nil
	} else if !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	err := j.b.linker()(ctx, j.f.Digest, j.e.abs)
	if err == nil {
		// Linking and chmod changed the ctime; remember the file as it is
		// now, so the next build trusts it.
		if info, serr := os.Stat(j.e.abs); serr == nil && info.Size() == j.f.Size {
			j.cache.Stat, j.cache.Linked = statOf(info), true
		}
		return nil
	}
	switch {
	case errors.Is(err, backend.ErrCannotLink):
		return j.b.putIfMissing(ctx, j.f.Digest, j.content)
	case errors.Is(err, backend.ErrDigestMismatch) || errors.Is(err, backend.ErrSizeMismatch):
		return fmt.Errorf("store %s: %w; build again", j.e.abs, errFileChanged)
	}
	return err
}

// linker returns the function that hard-links a file into the store, or nil.
func (b *builder) linker() func(context.Context, backend.Digest, string) error {
	if b.batch != nil {
		return b.batch.Link
	}
	if l, ok := b.store.(backend.Linker); ok {
		return l.Link
	}
	return nil
}

func (b *builder) refsCurrent(refs map[string]string) bool {
	for p, integrity := range refs {
		if b.sri[p] != integrity {
			return false
		}
	}
	return true
}

// putIfMissing stores a blob unless the store already has it; data is only
// fetched when needed.
func (b *builder) putIfMissing(ctx context.Context, d backend.Digest, data func() ([]byte, error)) error {
	if _, err := b.store.Stat(ctx, d); err == nil {
		return nil
	} else if !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	buf, err := data()
	if err != nil {
		return err
	}
	return b.putBlob(ctx, d, buf)
}

func (b *builder) putBlob(ctx context.Context, d backend.Digest, buf []byte) error {
	if b.batch != nil {
		return b.batch.Put(ctx, d, bytes.NewReader(buf), int64(len(buf)))
	}
	return b.store.Put(ctx, d, bytes.NewReader(buf), int64(len(buf)))
}

// processLarge streams a big file: hash (and SRI) in one pass, store from a
// second open; no precompression.
func (b *builder) processLarge(ctx context.Context, e *entry) (result, error) {
	f := File{Path: e.rel, Size: e.info.Size(), Private: isSourceMap(e.rel) && !b.opts.PublicSourceMaps}
	st := statOf(e.info)
	c, ok := b.old.lookup(e.rel, st)
	if !ok || c.Type == "" || c.Refs != nil {
		var err error
		if c, err = hashLarge(ctx, e, st); err != nil {
			return result{}, err
		}
	}
	f.Digest, f.Type, f.Integrity = c.Digest, c.Type, c.Integrity
	if _, err := b.store.Stat(ctx, f.Digest); errors.Is(err, backend.ErrNotFound) {
		if err := b.storeLarge(ctx, e, &c); err != nil {
			return result{}, err
		}
	} else if err != nil {
		return result{}, err
	}
	r := result{rel: e.rel, cache: c, bytes: f.Size, files: []File{f}}
	for _, sib := range e.sibs { // too big to check: kept as files of their own
		sr, err := b.process(ctx, &entry{rel: sib.rel, abs: sib.abs, info: sib.info, root: sib.root})
		if err != nil {
			return result{}, err
		}
		r.files = append(r.files, sr.files...)
		r.sibCache = append(r.sibCache, relEntry{sib.rel, sr.cache})
	}
	return r, nil
}

func hashLarge(ctx context.Context, e *entry, st statKey) (cacheEntry, error) {
	c := cacheEntry{Stat: st, Hashed: time.Now().UnixNano(), Size: e.info.Size()}
	fh, err := e.open()
	if err != nil {
		return c, fmt.Errorf("read %s: %w", e.abs, err)
	}
	defer fh.Close()
	h, s := backend.NewHash(), sha512.New384()
	head := make([]byte, 512)
	n, _ := io.ReadFull(fh, head)
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return c, err
	}
	w := io.Writer(h)
	if wantsSRI(e.rel) {
		w = io.MultiWriter(h, s)
	}
	n64, err := io.CopyBuffer(w, ctxReader{ctx, fh}, make([]byte, 256<<10))
	if err != nil {
		return c, fmt.Errorf("read %s: %w", e.abs, err)
	}
	if n64 != c.Size {
		return c, fmt.Errorf("read %s: %w; build again", e.abs, errFileChanged)
	}
	c.Digest, c.Type = backend.FromHash(h.Sum(nil)), mediatype.Of(e.rel, head[:n])
	if wantsSRI(e.rel) {
		c.Integrity = sriPrefix + base64.StdEncoding.EncodeToString(s.Sum(nil))
	}
	return c, nil
}

// storeLarge links (LinkFiles) or streams a big file into the store.
func (b *builder) storeLarge(ctx context.Context, e *entry, c *cacheEntry) error {
	if link := b.linker(); b.opts.LinkFiles && link != nil {
		err := link(ctx, c.Digest, e.abs)
		if err == nil {
			if info, serr := os.Stat(e.abs); serr == nil && info.Size() == c.Size {
				c.Stat, c.Linked = statOf(info), true
			}
			return nil
		}
		if !errors.Is(err, backend.ErrCannotLink) {
			if errors.Is(err, backend.ErrDigestMismatch) {
				return fmt.Errorf("store %s: %w; build again", e.abs, errFileChanged)
			}
			return err
		}
	}
	return b.putFile(ctx, e, c.Digest)
}

func (b *builder) putFile(ctx context.Context, e *entry, d backend.Digest) error {
	fh, err := e.open()
	if err != nil {
		return fmt.Errorf("read %s: %w", e.abs, err)
	}
	defer fh.Close()
	if b.batch != nil {
		err = b.batch.Put(ctx, d, fh, e.info.Size())
	} else {
		err = b.store.Put(ctx, d, fh, e.info.Size())
	}
	if errors.Is(err, backend.ErrDigestMismatch) || errors.Is(err, backend.ErrSizeMismatch) {
		return fmt.Errorf("store %s: %w; build again", e.abs, errFileChanged)
	}
	return err
}

// ctxReader stops a read loop once its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func sri384(data []byte) string {
	s := sha512.Sum384(data)
	return sriPrefix + base64.StdEncoding.EncodeToString(s[:])
}

// sortedEncodings returns the keys of m in order.
func sortedEncodings(m map[string]Variant) []Variant {
	out := make([]Variant, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Variant) int {
		if a.Encoding < b.Encoding {
			return -1
		}
		if a.Encoding > b.Encoding {
			return 1
		}
		return 0
	})
	return out
}
