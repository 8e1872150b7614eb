package backend

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDigest(t *testing.T) {
	good := string(Sum([]byte("x")))
	tests := map[string]struct {
		in string
		ok bool
	}{
		"valid":          {good, true},
		"empty":          {"", false},
		"no prefix":      {good[7:], false},
		"upper hex":      {"sha256:" + strings.ToUpper(good[7:]), false},
		"short":          {good[:70], false},
		"long":           {good + "0", false},
		"other algo":     {"sha512:" + good[7:], false},
		"path in digest": {"sha256:../" + good[10:], false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDigest(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseDigest(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidDigest) {
				t.Fatalf("error %v does not wrap ErrInvalidDigest", err)
			}
			if tc.ok && d.Hex() != tc.in[7:] {
				t.Fatalf("Hex = %q", d.Hex())
			}
		})
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(string(Sum(nil)))
	f.Add("sha256:")
	f.Add("sha256:../../x")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		if len(d.Hex()) != 64 || strings.ContainsAny(d.Hex(), "/.\\") {
			t.Fatalf("accepted unsafe digest %q", s)
		}
	})
}
