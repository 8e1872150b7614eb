package artifact

import (
	"net/http"
	"path"
	"strings"
)

// mediaTypes maps lowercase extensions to the Content-Type recorded in the
// manifest. It is fixed (not the host's mime.types) so the same folder gives
// the same manifest on every machine.
var mediaTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".cjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".map": "application/json",
	".jsonld": "application/ld+json", ".webmanifest": "application/manifest+json",
	".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".csv": "text/csv; charset=utf-8", ".xml": "application/xml",
	".rss": "application/rss+xml", ".atom": "application/atom+xml",
	".ics": "text/calendar; charset=utf-8", ".yaml": "application/yaml", ".yml": "application/yaml",
	".svg": "image/svg+xml", ".wasm": "application/wasm", ".ico": "image/x-icon",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".bmp": "image/bmp",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".eot": "application/vnd.ms-fontobject", ".pdf": "application/pdf",
	".zip": "application/zip", ".gz": "application/gzip", ".br": "application/x-brotli",
	".zst": "application/zstd", ".tgz": "application/gzip",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
	".wav": "audio/wav", ".m4a": "audio/mp4",
}

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

// mediaType returns the Content-Type for rel, sniffing head if the extension
// is unknown.
func mediaType(rel string, head []byte) string {
	if t, ok := mediaTypes[strings.ToLower(path.Ext(rel))]; ok {
		return t
	}
	return http.DetectContentType(head)
}

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
