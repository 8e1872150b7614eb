package artifact

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/mediatype"
)

// variants attaches precompressed variants to j.f: valid .gz/.br siblings
// first, then compressed copies for the remaining encodings. Siblings that are
// not valid variants are returned as files of their own.
func (j *fileJob) variants(ctx context.Context, r *result) ([]File, error) {
	got := map[string]Variant{}
	var extra []File
	encs := make([]string, 0, len(j.e.sibs))
	for enc := range j.e.sibs {
		encs = append(encs, enc)
	}
	sort.Strings(encs)
	for _, enc := range encs {
		sib := j.e.sibs[enc]
		v, c, why, err := j.sibling(ctx, enc, sib)
		if err != nil {
			return nil, err
		}
		if why == "" {
			got[enc] = v
			r.sibCache = append(r.sibCache, relEntry{sib.rel, c})
			continue
		}
		if why != "not smaller" {
			r.warn = fmt.Sprintf("%s %s; kept as a file of its own, not as the %s variant of %s", sib.rel, why, enc, j.e.rel)
		}
		sr, err := j.b.process(ctx, &entry{rel: sib.rel, abs: sib.abs, info: sib.info})
		if err != nil {
			return nil, err
		}
		extra = append(extra, sr.files...)
		r.sibCache = append(r.sibCache, relEntry{sib.rel, sr.cache})
	}
	var need []string
	for _, enc := range j.b.comp.encodings() {
		if _, ok := got[enc]; !ok {
			need = append(need, enc)
		}
	}
	gen, err := j.generate(ctx, need)
	if err != nil {
		return nil, err
	}
	if gen != nil {
		r.gen = gen
		for _, v := range gen.Variants {
			got[v.Encoding] = v
		}
	}
	j.f.Variants = sortedEncodings(got)
	return extra, nil
}

// sibling checks that sib is the enc-compressed form of the file and
// smaller; why says what is wrong otherwise. A sibling already checked in an
// earlier build (same stat, same source digest) is not read again.
func (j *fileJob) sibling(ctx context.Context, enc string, sib *entry) (Variant, cacheEntry, string, error) {
	st := statOf(sib.info)
	if c, ok := j.b.old.lookup(sib.rel, st); ok && c.VariantOf == j.f.Digest && c.Encoding == enc {
		v := Variant{Encoding: enc, Digest: c.Digest, Size: c.Size}
		err := j.b.putIfMissing(ctx, v.Digest, func() ([]byte, error) { return readChecked(sib, v.Digest) })
		return v, c, "", err
	}
	hashed := time.Now().UnixNano()
	comp, p, err := readFile(sib)
	if err != nil {
		return Variant{}, cacheEntry{}, "", err
	}
	j.hold(p)
	data, err := j.content()
	if err != nil {
		return Variant{}, cacheEntry{}, "", err
	}
	if !keep(len(comp), len(data)) {
		return Variant{}, cacheEntry{}, "not smaller", nil
	}
	if !decodes(enc, comp, data) {
		return Variant{}, cacheEntry{}, "does not decompress to the same bytes", nil
	}
	v := Variant{Encoding: enc, Digest: backend.Sum(comp), Size: int64(len(comp))}
	c := cacheEntry{Stat: st, Hashed: hashed, Digest: v.Digest, Size: v.Size,
		Type: mediatype.Of(sib.rel, nil), VariantOf: j.f.Digest, Encoding: enc}
	err = j.b.putIfMissing(ctx, v.Digest, func() ([]byte, error) { return comp, nil })
	return v, c, "", err
}

func readChecked(e *entry, d backend.Digest) ([]byte, error) {
	data, err := os.ReadFile(e.abs)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.abs, err)
	}
	if backend.Sum(data) != d {
		return nil, fmt.Errorf("read %s: %w; build again", e.abs, errFileChanged)
	}
	return data, nil
}

// generate makes the variants in need, reusing earlier decisions for the
// same content (from the cache or a previous manifest) when their blobs are
// still stored. It returns nil for content that is never compressed.
func (j *fileJob) generate(ctx context.Context, need []string) (*genRecord, error) {
	f := &j.f
	if len(need) == 0 || !compressible(f.Type) || f.Size < minCompressSize || f.Size > maxCompressSize {
		return nil, nil
	}
	for _, known := range []map[backend.Digest]genRecord{j.b.old.Variants, j.b.prev} {
		if rec, ok := known[f.Digest]; ok {
			if out, ok := j.reuse(ctx, rec, need); ok {
				return out, nil
			}
		}
	}
	data, err := j.content()
	if err != nil {
		return nil, err
	}
	rec := &genRecord{Tried: need}
	if !j.b.comp.worthTrying(data) {
		return rec, nil
	}
	for _, enc := range need {
		c, p, err := j.b.comp.compress(enc, data)
		j.hold(p)
		if err != nil {
			return nil, fmt.Errorf("compress %s: %w", j.e.abs, err)
		}
		if !keep(len(c), len(data)) {
			continue
		}
		v := Variant{Encoding: enc, Digest: backend.Sum(c), Size: int64(len(c))}
		if err := j.b.putIfMissing(ctx, v.Digest, func() ([]byte, error) { return c, nil }); err != nil {
			return nil, err
		}
		rec.Variants = append(rec.Variants, v)
	}
	return rec, nil
}

// reuse returns rec narrowed to need if rec decided every encoding in need
// and the kept variants are stored.
func (j *fileJob) reuse(ctx context.Context, rec genRecord, need []string) (*genRecord, bool) {
	out := &genRecord{Tried: need}
	for _, enc := range need {
		if !slices.Contains(rec.Tried, enc) {
			return nil, false
		}
	}
	for _, v := range rec.Variants {
		if !slices.Contains(need, v.Encoding) {
			continue
		}
		if v.Digest.Validate() != nil {
			return nil, false
		}
		if _, err := j.b.store.Stat(ctx, v.Digest); err != nil {
			return nil, false
		}
		out.Variants = append(out.Variants, v)
	}
	return out, true
}
