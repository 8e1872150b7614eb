package osv

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MaxEntrySize bounds one advisory file.
const MaxEntrySize = 16 << 20

// Import builds the index in dir from src: an OSV zip (all.zip), a folder
// of OSV JSON files (searched recursively) or one JSON file. Files that do
// not parse are skipped and listed in Meta.Problems, each naming the file;
// the new index replaces the old one only when complete.
func Import(ctx context.Context, src, dir string, now time.Time) (Meta, error) {
	b := &builder{byKey: map[string][]Record{}, meta: Meta{Format: 1, ImportedAt: now.UTC(), Source: src, Ecosystems: map[string]int{}}}
	st, err := os.Stat(src)
	if err != nil {
		return Meta{}, fmt.Errorf("advisories source: %w", err)
	}
	switch {
	case st.IsDir():
		err = b.walkDir(ctx, src)
	case strings.HasSuffix(strings.ToLower(src), ".zip"):
		err = b.readZip(ctx, src)
	default:
		err = b.readFile(src)
	}
	if err != nil {
		return Meta{}, err
	}
	if b.meta.Advisories == 0 {
		return b.meta, fmt.Errorf("%s: no OSV advisories found (%d problems)", src, len(b.meta.Problems))
	}
	return b.meta, b.write(dir)
}

type builder struct {
	byKey map[string][]Record
	meta  Meta
}

func (b *builder) add(name string, data []byte) {
	e, err := ParseEntry(name, data)
	if err != nil {
		b.meta.Problems = append(b.meta.Problems, err.Error())
		return
	}
	b.meta.Advisories++
	if e.Withdrawn != nil {
		b.meta.Withdrawn++
	}
	if e.Modified.After(b.meta.Newest) {
		b.meta.Newest = e.Modified
	}
	for _, r := range e.Records() {
		k := Key(r.Ecosystem, r.Name)
		if len(b.byKey[k]) == 0 {
			b.meta.Ecosystems[Ecosystem(r.Ecosystem)]++
		}
		b.byKey[k] = append(b.byKey[k], r)
	}
}

func (b *builder) readFile(path string) error {
	data, err := readLimited(path)
	if err != nil {
		return err
	}
	b.add(path, data)
	return nil
}

func (b *builder) walkDir(ctx context.Context, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		return b.readFile(path)
	})
}

func (b *builder) readZip(ctx context.Context, path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		name := path + "!" + f.Name
		if f.UncompressedSize64 > MaxEntrySize {
			b.meta.Problems = append(b.meta.Problems, fmt.Sprintf("%s: larger than %d bytes", name, MaxEntrySize))
			continue
		}
		rc, err := f.Open()
		if err != nil {
			b.meta.Problems = append(b.meta.Problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(rc, MaxEntrySize+1))
		rc.Close()
		if err != nil {
			b.meta.Problems = append(b.meta.Problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		b.add(name, data)
	}
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxEntrySize+1))
	if err == nil && len(data) > MaxEntrySize {
		err = fmt.Errorf("%s: larger than %d bytes", path, MaxEntrySize)
	}
	return data, err
}

// write puts the index and meta in a temporary folder, then renames them
// into dir: index first, meta last, so Open never sees a meta without its
// index.
func (b *builder) write(dir string) error {
	b.meta.Packages = len(b.byKey)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := writeIndex(filepath.Join(tmp, IndexFile), b.byKey); err != nil {
		return fmt.Errorf("writing index: %w", err)
	}
	mb, err := json.MarshalIndent(b.meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, MetaFile), mb, 0o644); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(tmp, IndexFile), filepath.Join(dir, IndexFile)); err != nil {
		return err
	}
	return os.Rename(filepath.Join(tmp, MetaFile), filepath.Join(dir, MetaFile))
}
