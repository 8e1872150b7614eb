package edge

import (
	"testing"
	"time"
)

// FuzzParseRange: a satisfiable range always lies inside the body.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bytes=1-0", "bytes=0-1,2-3", "bytes=99999999999999999999-", "bytes=-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		br, ok, unsat := parseRange(h, size)
		if ok && unsat {
			t.Fatal("both satisfiable and unsatisfiable")
		}
		if ok && (br.start < 0 || br.length <= 0 || br.start+br.length > size) {
			t.Fatalf("parseRange(%q, %d) = %+v outside the body", h, size, br)
		}
	})
}

// FuzzAcceptEncoding: the chosen variant is one the client gave q > 0.
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=0.5, gzip;q=0.9", "*;q=0", "identity", "gzip;q=abc", ",,;;=", "BR"} {
		f.Add(s)
	}
	file := &File{Path: "/a.js", Encoded: []Representation{{Encoding: "gzip"}, {Encoding: "br"}, {Encoding: "zstd"}}}
	f.Fuzz(func(t *testing.T, ae string) {
		if r := chooseEncoding(file, ae); r != nil && acceptQ(ae, r.Encoding) <= 0 {
			t.Fatalf("chose %s for %q", r.Encoding, ae)
		}
	})
}

// FuzzSessionCookie: no input other than a cookie minted with the key
// verifies.
func FuzzSessionCookie(f *testing.F) {
	s := sessionSigner{key: testKey, ttl: time.Hour}
	now := time.Unix(1_800_000_000, 0)
	valid, _ := s.mint(Principal{UserID: "u", UserRoles: []string{"admin"}}, "prod", now)
	f.Add(valid)
	f.Add("e30.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		p, err := s.verify(v, "prod", now)
		if err == nil && v != valid {
			t.Fatalf("forged cookie %q verified as %+v", v, p)
		}
	})
}

// FuzzClientPrincipal: decoding never panics and rejects non-JSON.
func FuzzClientPrincipal(f *testing.F) {
	f.Add("eyJ1c2VySWQiOiJ1IiwidXNlclJvbGVzIjpbImEiXX0=")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, v string) {
		if p, err := decodeClientPrincipal(v); err == nil && p == nil {
			t.Fatal("nil principal without error")
		}
	})
}
