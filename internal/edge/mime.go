package edge

import (
	"strings"
)

// Cache-Control values the edge sends by default (Decision headers and
// header rules may override them).
const (
	CacheImmutable  = "public, max-age=31536000, immutable"
	CacheRevalidate = "no-cache"
)

// CacheControlFor returns the default Cache-Control of a release path:
// immutable for fingerprinted assets (a content hash in the file name, as
// Vite's assets/index-BxQ3a9Xy.js or app.3f9a1c2e.js), "no-cache" (always
// revalidate, which the strong ETag makes cheap) for everything else,
// HTML included.
func CacheControlFor(p string) string {
	if Fingerprinted(p) {
		return CacheImmutable
	}
	return CacheRevalidate
}

// Fingerprinted reports whether the file name of p carries a content hash:
// a token of at least 8 characters of [A-Za-z0-9_] mixing letters and digits,
// set off by "-" or "." from the base name and followed by the extension
// (app.3f9a1c2e.js, index-BxQ3a9Xy.js, chunk.3f9a1c2e.min.js). Rollup's
// base64url hashes may contain "-": such a token must be exactly 8
// characters (index-D-4xQ_aB.js). Under an /assets/ folder 6 characters
// suffice, and the 8-character base64url hash Rollup puts at the end of a
// name may be letters alone when it mixes upper and lower case
// (index-DLkpbOgU.js: a quarter of Vite's hashes have no digit). HTML
// files are never fingerprinted.
func Fingerprinted(p string) bool {
	name := p[strings.LastIndexByte(p, '/')+1:]
	if strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".htm") {
		return false
	}
	minLen := 8
	if strings.Contains(p, "/assets/") {
		minLen = 6
	}
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 {
		return false
	}
	stem := name[:dot] // without the extension
	for i := 0; i < len(stem); i++ {
		if stem[i] != '.' && stem[i] != '-' {
			continue
		}
		tok := stem[i+1:]
		if j := strings.IndexByte(tok, '.'); j >= 0 {
			tok = tok[:j] // app.HASH.min
		}
		if hashLike(tok, minLen) {
			return true
		}
	}
	return minLen == 6 && rollupHash(stem)
}

// rollupHash reports whether stem ends in "-" and eight characters of
// Rollup's base64url alphabet that mix upper and lower case, as Vite's
// assets/[name]-[hash] names do (index-DLkpbOgU).
func rollupHash(stem string) bool {
	if len(stem) < 10 || stem[len(stem)-9] != '-' {
		return false
	}
	k, ok := hashChars(stem[len(stem)-8:])
	return ok && k.upper && k.lower
}

func hashLike(tok string, minLen int) bool {
	if len(tok) < minLen || len(tok) > 64 {
		return false
	}
	k, ok := hashChars(tok)
	if !ok || k.dash && len(tok) != 8 {
		return false
	}
	return k.digit && (k.upper || k.lower || k.under)
}

// charKinds says which kinds of character a token holds.
type charKinds struct{ digit, upper, lower, under, dash bool }

// hashChars classifies tok's characters; ok is false when one is outside
// the hashes' alphabet [A-Za-z0-9_-].
func hashChars(tok string) (k charKinds, ok bool) {
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c >= '0' && c <= '9':
			k.digit = true
		case c >= 'A' && c <= 'Z':
			k.upper = true
		case c >= 'a' && c <= 'z':
			k.lower = true
		case c == '_':
			k.under = true
		case c == '-':
			k.dash = true
		default:
			return k, false
		}
	}
	return k, true
}
