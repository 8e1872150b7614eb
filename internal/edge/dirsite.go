package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
	"github.com/phoenixvc/phoenix/internal/mediatype"
)

// ConfigFileName is the routing config a release carries at its root. The
// edge never serves it.
const ConfigFileName = swa.FileName

// variantSuffixes maps a precompressed sibling's suffix to its encoding
// (nginx gzip_static style: x.js.gz is the gzip variant of x.js).
var variantSuffixes = [...]struct{ suffix, encoding string }{
	{".br", "br"}, {".zst", "zstd"}, {".gz", "gzip"},
}

// DirSite is a Site backed by a plain folder, indexed once by NewDirSite.
type DirSite struct {
	id    string
	root  *os.Root
	cfg   *swa.Config
	files map[string]*File
}

var _ Site = (*DirSite)(nil)

// NewDirSite indexes dir once: every regular file becomes a path of the
// release, with a strong ETag from its SHA-256; x.gz, x.br and x.zst siblings
// of an existing x become its precompressed variants (and are also served
// under their own names). Symlinks are skipped, so no byte from outside dir is
// ever served. dir/staticwebapp.config.json, when present, is loaded and never
// served. The release id is "dir:" plus a digest of the index.
func NewDirSite(ctx context.Context, dir string) (*DirSite, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("edge: open site folder: %w", err)
	}
	s := &DirSite{root: root, files: make(map[string]*File)}
	ok := false
	defer func() {
		if !ok {
			root.Close()
		}
	}()
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	if err := s.index(ctx, dir); err != nil {
		return nil, err
	}
	s.attachVariants()
	s.id = s.digest()
	ok = true
	return s, nil
}

// ID implements Site.
func (s *DirSite) ID() string { return s.id }

// Config implements Site.
func (s *DirSite) Config() *swa.Config { return s.cfg }

// Exists implements swa.FileSystem, for Config.MissingFiles.
func (s *DirSite) Exists(p string) bool { return s.files[p] != nil }

// Warnings lists what the folder's config warns of (swa.Config.Warnings)
// and its rewrites to files the folder does not hold (MissingFiles).
func (s *DirSite) Warnings() []swa.Problem {
	return append(slices.Clone(s.cfg.Warnings()), s.cfg.MissingFiles(s)...)
}

// Lookup implements Site.
func (s *DirSite) Lookup(p string) *File { return s.files[p] }

// Open implements Site; blob is the file's path relative to the folder.
func (s *DirSite) Open(blob string) (*os.File, error) {
	f, err := s.root.Open(blob)
	if err != nil {
		return nil, fmt.Errorf("edge: open %s: %w", blob, err)
	}
	return f, nil
}

// Len reports how many paths the site serves.
func (s *DirSite) Len() int { return len(s.files) }

// Close releases the folder handle. Call it after the site is no longer served.
func (s *DirSite) Close() error { return s.root.Close() }

type indexed struct {
	rel  string
	info fs.FileInfo
}

func (s *DirSite) index(ctx context.Context, dir string) error {
	var todo []indexed
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("edge: index %s: %w", p, err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("edge: index %s: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		if !servesFile(rel, d.Type()) {
			return nil // directories, symlinks, devices, the config
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("edge: index %s: %w", p, err)
		}
		todo = append(todo, indexed{rel, info})
		return nil
	})
	if err != nil {
		return err
	}
	return s.hashAll(ctx, todo)
}

// hashAll fills s.files, hashing with two goroutines (the hash, not the
// walk, is the cost).
func (s *DirSite) hashAll(ctx context.Context, todo []indexed) error {
	files := make([]*File, len(todo))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += 2 {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				f, err := s.describe(todo[i])
				if err != nil {
					errs[w] = err
					return
				}
				files[i] = f
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, f := range files {
		s.files[f.Path] = f
	}
	return nil
}

func (s *DirSite) describe(it indexed) (*File, error) {
	etag, ct, err := s.hashFile(it.rel)
	if err != nil {
		return nil, err
	}
	return &File{
		Path:        "/" + it.rel,
		ContentType: ct,
		ModTime:     it.info.ModTime().UTC().Truncate(time.Second),
		Identity:    Representation{Blob: it.rel, Size: it.info.Size(), ETag: etag},
	}, nil
}

// hashFile returns the ETag of the file rel and its Content-Type (by its
// extension, else sniffed from its first bytes, as the artifact build
// does), reading it once.
func (s *DirSite) hashFile(rel string) (etag, ct string, err error) {
	f, err := s.root.Open(rel)
	if err != nil {
		return "", "", fmt.Errorf("edge: index %s: %w", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	var head [512]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", "", fmt.Errorf("edge: hash %s: %w", rel, err)
	}
	h.Write(head[:n])
	if _, err := io.Copy(h, f); err != nil {
		return "", "", fmt.Errorf("edge: hash %s: %w", rel, err)
	}
	return strongETag(h.Sum(nil)), mediatype.Of(rel, head[:n]), nil
}

// strongETag is the ETag of content whose SHA-256 is sum, for a folder's
// files and the variants made of them alike.
func strongETag(sum []byte) string { return `"` + hex.EncodeToString(sum[:16]) + `"` }

// servesFile reports whether a folder site serves the entry rel (slash
// separated, relative to the folder) of mode m: regular files only (not
// directories, symbolic links or devices), never the routing config.
func servesFile(rel string, m fs.FileMode) bool { return m.IsRegular() && rel != ConfigFileName }

// attachVariants links x.gz / x.br / x.zst to x when both exist.
func (s *DirSite) attachVariants() {
	for p, f := range s.files {
		for _, v := range variantSuffixes {
			base, ok := strings.CutSuffix(p, v.suffix)
			if !ok {
				continue
			}
			orig := s.files[base]
			if orig == nil {
				continue
			}
			r := &f.Identity
			orig.Encoded = append(orig.Encoded, Representation{
				Encoding: v.encoding, Blob: r.Blob, Size: r.Size, ETag: r.ETag,
			})
		}
	}
}

// digest names the release by its paths and ETags, so the same tree always
// gets the same id.
func (s *DirSite) digest() string {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s %s\n", p, s.files[p].Identity.ETag)
	}
	return "dir:" + hex.EncodeToString(h.Sum(nil)[:8])
}

// loadConfig reads dir's staticwebapp.config.json, or returns the default
// rules when there is none.
func loadConfig(dir string) (*swa.Config, error) {
	cfg, err := swa.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("edge: site %s: %w", dir, err)
	}
	return cfg, nil
}
