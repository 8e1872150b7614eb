// Package mediatype is Phoenix's one table of the Content-Type a file is
// served with, by its extension: the artifact build records it in the
// manifest and the edge serves a folder (phoenix serve DIR) with it, so a
// file gets the same type served from a folder as from its deployment,
// on every machine whatever its /etc/mime.types says.
package mediatype

import (
	"net/http"
	"path"
	"strings"
)

// types maps lowercase extensions to their Content-Type.
var types = map[string]string{
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
	".zst": "application/zstd", ".tgz": "application/gzip", ".tar": "application/x-tar",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
	".wav": "audio/wav", ".m4a": "audio/mp4", ".bin": "application/octet-stream",
}

// Of returns the Content-Type of the file name: the table's, else the type
// sniffed from head, the file's first bytes (at most 512 are looked at;
// http.DetectContentType's rules, "application/octet-stream" when nothing
// fits).
func Of(name string, head []byte) string {
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return http.DetectContentType(head)
}
