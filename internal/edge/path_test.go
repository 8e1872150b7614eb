package edge

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"/", "/", nil},
		{"/index.html", "/index.html", nil},
		{"/a/b/", "/a/b/", nil},
		{"//a///b", "/a/b", nil},
		{"/caf\u00e9.html", "/caf\u00e9.html", nil},
		{"/.well-known/x", "/.well-known/x", nil},
		{"/a..b/c...", "/a..b/c...", nil},
		{"", "", ErrPathNotAbsolute},
		{"a/b", "", ErrPathNotAbsolute},
		{"/..", "", ErrPathDotSegment},
		{"/../etc/passwd", "", ErrPathDotSegment},
		{"/a/../b", "", ErrPathDotSegment},
		{"/a/./b", "", ErrPathDotSegment},
		{"/a/.", "", ErrPathDotSegment},
		{"/a\\..\\b", "", ErrPathBackslash},
		{"/%2e%2e/x", "", ErrPathEscaped}, // what "%252e%252e" decodes to once
		{"/a\x00.html", "", ErrPathControl},
		{"/a\nb", "", ErrPathControl},
		{"/a\x7f", "", ErrPathControl},
		{"/\u0085x", "", ErrPathControl},
		{"/\xc0\xae\xc0\xae/x", "", ErrPathEncoding}, // overlong "."
		{"/\xe0\x80\xae", "", ErrPathEncoding},
		{"/\xff", "", ErrPathEncoding},
		{"/" + strings.Repeat("a", MaxPathLen), "", ErrPathTooLong},
	}
	for _, tc := range tests {
		t.Run(strings.ToValidUTF8(tc.in, "?"), func(t *testing.T) {
			got, err := CleanPath(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("CleanPath(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

// FuzzCleanPath checks, for any request target decoded once the way
// net/http does, that an accepted path is absolute, clean UTF-8 with no dot
// segment, backslash, percent sign or control character, and that cleaning
// is idempotent.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/%2e%2e/x", "/..%5c..%5cx", "/%252e%252e/x", "/%c0%ae%c0%ae/",
		"/a%00b", "//a//b/", "/a/./b", "/caf%C3%A9", "/%e2%80%a8", "/a/..", "/..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			return // net/http answers 400 itself
		}
		p, err := CleanPath(decoded)
		if err != nil {
			return
		}
		if p == "" || p[0] != '/' || !utf8.ValidString(p) || strings.ContainsAny(p, "\\%\x00") || strings.Contains(p, "//") {
			t.Fatalf("CleanPath(%q) accepted %q", decoded, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CleanPath(%q) kept a dot segment: %q", decoded, p)
			}
			for _, r := range seg {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("CleanPath(%q) kept a control character: %q", decoded, p)
				}
			}
		}
		if again, err := CleanPath(p); err != nil || again != p {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", decoded, p, again, err)
		}
	})
}
