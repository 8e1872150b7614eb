package s3

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// FuzzDigestOf: a key listed from the bucket is taken as a blob only when
// it is exactly the key that blob is stored under.
func FuzzDigestOf(f *testing.F) {
	s := &Store{keys: "p/blobs/sha256/"}
	h := backend.Sum([]byte("x")).Hex()
	for _, k := range []string{"p/blobs/sha256/" + h[:2] + "/" + h, "p/blobs/sha256/" + h, "p/blobs/sha256/zz/" + h,
		"p/blobs/sha256/" + h[:2] + "/" + strings.ToUpper(h), "p/blobs/sha256/../" + h, ""} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		d, ok := s.digestOf(key)
		if !ok {
			return
		}
		back, err := s.key(d)
		if err != nil || back != key {
			t.Fatalf("digestOf(%q) = %s, whose key is %q (%v)", key, d, back, err)
		}
	})
}
