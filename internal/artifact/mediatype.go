package artifact

import (
	"path"
	"strings"
)

// compressibleTypes are the media types (without parameters) worth
// precompressing; everything else is stored as is.
var compressibleTypes = map[string]bool{
	"application/json": true, "application/ld+json": true, "application/manifest+json": true,
	"application/xml": true, "application/rss+xml": true, "application/atom+xml": true,
	"application/yaml": true, "application/wasm": true, "application/javascript": true,
	"image/svg+xml": true, "image/x-icon": true, "image/bmp": true,
	"font/ttf": true, "font/otf": true, "application/vnd.ms-fontobject": true,
}

// sriExts are the files that get an SRI hash.
var sriExts = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".css": true}

// compressible reports whether files of Content-Type t are worth compressing.
func compressible(t string) bool {
	base, _, _ := strings.Cut(t, ";")
	base = strings.TrimSpace(base)
	return strings.HasPrefix(base, "text/") || compressibleTypes[base]
}

func wantsSRI(rel string) bool { return sriExts[strings.ToLower(path.Ext(rel))] }

func isHTML(rel string) bool {
	e := strings.ToLower(path.Ext(rel))
	return e == ".html" || e == ".htm"
}

func isSourceMap(rel string) bool { return strings.HasSuffix(strings.ToLower(rel), ".map") }
