package artifact

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a manifest may hold.
const (
	MaxFiles      = 1 << 20 // files per manifest
	MaxPathLen    = 1024    // bytes per path
	MaxMetaLen    = 256     // bytes per Meta field
	maxProblems   = 20      // problems listed in one ValidationError
	sriPrefix     = "sha384-"
	sri384Decoded = 48
)

// ValidationError lists what is wrong with a manifest, each problem naming the
// file index and field.
type ValidationError struct {
	Problems []string
	More     int // problems not listed
}

func (e *ValidationError) Error() string {
	s := "invalid manifest: " + strings.Join(e.Problems, "; ")
	if e.More > 0 {
		s += fmt.Sprintf("; and %d more", e.More)
	}
	return s
}

type problems struct{ e ValidationError }

func (p *problems) add(format string, args ...any) {
	if len(p.e.Problems) < maxProblems {
		p.e.Problems = append(p.e.Problems, fmt.Sprintf(format, args...))
	} else {
		p.e.More++
	}
}

func (p *problems) err() error {
	if len(p.e.Problems) == 0 {
		return nil
	}
	return &p.e
}

// Validate checks the manifest and returns warnings (paths differing only in
// case, which clash on case-insensitive filesystems and CDNs) and, if it is
// invalid, a *ValidationError. Validate does not modify m.
func (m *Manifest) Validate() (warnings []string, err error) {
	var p problems
	if m.Version != FormatVersion {
		p.add("version: %d is not supported, want %d", m.Version, FormatVersion)
	}
	m.Meta.validate(&p)
	if len(m.Files) > MaxFiles {
		p.add("files: %d files, at most %d allowed", len(m.Files), MaxFiles)
		return nil, p.err()
	}
	paths := make(map[string]bool, len(m.Files))
	lower := make(map[string]string, len(m.Files))
	for i := range m.Files {
		f := &m.Files[i]
		f.validate(i, &p)
		if paths[f.Path] {
			p.add("files[%d].path: duplicate path %q", i, f.Path)
		}
		paths[f.Path] = true
		l := strings.ToLower(f.Path)
		if other, ok := lower[l]; ok && other != f.Path {
			warnings = append(warnings, fmt.Sprintf("paths %q and %q differ only in case", other, f.Path))
		}
		lower[l] = f.Path
	}
	checkDirConflicts(m.Files, paths, &p)
	return warnings, p.err()
}

// checkDirConflicts rejects a path that is both a file and a directory
// ("a" and "a/b"): no filesystem or URL space can hold both.
func checkDirConflicts(files []File, paths map[string]bool, p *problems) {
	for i, f := range files {
		for j := strings.IndexByte(f.Path, '/'); j >= 0; {
			if paths[f.Path[:j]] {
				p.add("files[%d].path: %q is inside %q, which is a file", i, f.Path, f.Path[:j])
				break
			}
			k := strings.IndexByte(f.Path[j+1:], '/')
			if k < 0 {
				break
			}
			j += k + 1
		}
	}
}

func (md *Meta) validate(p *problems) {
	for _, fld := range []struct{ name, v string }{
		{"project", md.Project}, {"release", md.Release}, {"commit", md.Commit}, {"builder", md.Builder},
	} {
		if err := checkText(fld.v); err != nil {
			p.add("meta.%s: %v", fld.name, err)
		}
	}
	if y := md.Created.Year(); !md.Created.IsZero() && (y < 1 || y > 9999) {
		p.add("meta.created: year %d is out of range", y)
	}
}

// checkText accepts short printable UTF-8 (it ends up in signature comments).
func checkText(s string) error {
	if len(s) > MaxMetaLen {
		return fmt.Errorf("%d bytes, at most %d allowed", len(s), MaxMetaLen)
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %U not allowed", r)
		}
	}
	return nil
}

func (f *File) validate(i int, p *problems) {
	if err := ValidatePath(f.Path); err != nil {
		p.add("files[%d].path: %v", i, err)
	}
	if err := f.Digest.Validate(); err != nil {
		p.add("files[%d].digest: %v", i, err)
	}
	if f.Size < 0 {
		p.add("files[%d].size: %d is negative", i, f.Size)
	}
	if _, _, err := mime.ParseMediaType(f.Type); err != nil || checkText(f.Type) != nil {
		p.add("files[%d].type: %q is not a media type", i, clip(f.Type))
	}
	if f.Integrity != "" && !validSRI(f.Integrity) {
		p.add("files[%d].integrity: %q is not %s followed by 64 base64 characters", i, clip(f.Integrity), sriPrefix)
	}
	seen := map[string]bool{}
	for j, v := range f.Variants {
		switch v.Encoding {
		case EncodingBrotli, EncodingGzip, EncodingZstd:
		default:
			p.add("files[%d].variants[%d].encoding: %q is not br, gzip or zstd", i, j, clip(v.Encoding))
		}
		if seen[v.Encoding] {
			p.add("files[%d].variants[%d].encoding: duplicate encoding %q", i, j, v.Encoding)
		}
		seen[v.Encoding] = true
		if err := v.Digest.Validate(); err != nil {
			p.add("files[%d].variants[%d].digest: %v", i, j, err)
		}
		if v.Size < 0 {
			p.add("files[%d].variants[%d].size: %d is negative", i, j, v.Size)
		}
	}
}

func validSRI(s string) bool {
	b, ok := strings.CutPrefix(s, sriPrefix)
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b)
	return err == nil && len(raw) == sri384Decoded
}

// ValidatePath checks that p is a clean relative slash path: not empty, not
// absolute, no "." or ".." element, no empty element, no backslash, no NUL or
// other control character, valid UTF-8, at most MaxPathLen bytes.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case len(p) > MaxPathLen:
		return fmt.Errorf("path is %d bytes, at most %d allowed", len(p), MaxPathLen)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not valid UTF-8", clip(p))
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute; use a path relative to the site root", clip(p))
	case strings.ContainsRune(p, '\\'):
		return fmt.Errorf("path %q contains a backslash; use forward slashes", clip(p))
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return fmt.Errorf("path %q contains control character %U", clip(p), r)
		}
	}
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "":
			return fmt.Errorf("path %q has an empty element (double or trailing slash)", clip(p))
		case ".", "..":
			return fmt.Errorf("path %q has a %q element", clip(p), el)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
