package mediatype

import "testing"

// TestOf: the table wins whatever the bytes (case-insensitively), and an
// unknown extension is sniffed from the content.
func TestOf(t *testing.T) {
	for _, c := range []struct {
		name, head, want string
	}{
		{"assets/index-abc.js", "<html>", "text/javascript; charset=utf-8"},
		{"INDEX.HTML", "", "text/html; charset=utf-8"},
		{"feed.rss", "<?xml", "application/rss+xml"},
		{"data.jsonld", "{}", "application/ld+json"},
		{"event.ics", "BEGIN:VCALENDAR", "text/calendar; charset=utf-8"},
		{"openapi.yaml", "a: 1", "application/yaml"},
		{"LICENSE", "MIT License\n", "text/plain; charset=utf-8"},
		{"page", "<!DOCTYPE html><p>hi", "text/html; charset=utf-8"},
		{"blob", "\x00\x01\x02\x03", "application/octet-stream"},
		{"image.unknown", "\x89PNG\r\n\x1a\n", "image/png"},
	} {
		if got := Of(c.name, []byte(c.head)); got != c.want {
			t.Errorf("Of(%q, %q) = %q, want %q", c.name, c.head, got, c.want)
		}
	}
}
