package s3conn

import (
	"path"
	"strings"
	"testing"
)

// FuzzParseURL: any string either fails or gives a bucket and a clean
// prefix ending in "/" (or none).
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://b/p", "s3://bucket", "s3://b/a/../c", "http://x", "s3://b//p/", "s3://b/p%2F..%2F",
		"s3://user:secret@b/p", "s3://b/p?x=1", "s3:///p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		bucket, prefix, err := ParseURL(raw)
		if err != nil {
			return
		}
		if bucket == "" || (prefix != "" && !strings.HasSuffix(prefix, "/")) {
			t.Fatalf("ParseURL(%q) = %q, %q", raw, bucket, prefix)
		}
		if p := strings.TrimSuffix(prefix, "/"); p != "" && (path.Clean(p) != p || strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../")) {
			t.Fatalf("ParseURL(%q) gave the unclean prefix %q", raw, prefix)
		}
	})
}
