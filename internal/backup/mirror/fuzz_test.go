package mirror

import (
	"path"
	"strings"
	"testing"
)

// FuzzSafeRel: a key a bucket lists is written under the pull folder only
// when it is a clean relative path that cannot climb out.
func FuzzSafeRel(f *testing.F) {
	for _, s := range []string{"objects/sha256/ab/cd", "../x", "/etc/passwd", "a/./b", "a\\..\\b", "", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		if !safeRel(rel) {
			return
		}
		if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") || path.Clean(rel) != rel || rel == "." {
			t.Fatalf("safeRel accepted %q", rel)
		}
	})
}
