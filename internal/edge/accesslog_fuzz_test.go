package edge

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzAccessLogRecord: any bytes in the method, host, request target,
// user agent and referer give one valid JSON line whose fields read back
// as the capped values (the target without its query, the referer
// without query or fragment), invalid UTF-8 replaced byte by byte.
func FuzzAccessLogRecord(f *testing.F) {
	f.Add("GET", "example.com", "/a?b=c", "curl/8", "https://r.example/x?y#z", 200, int64(12), int64(1795694400123456789))
	f.Add("HEAD", "\xff\xfe", "/\x00\"\\\u2028\xc3", "\x1b[31m", "", 404, int64(0), int64(-1))
	f.Add(strings.Repeat("M", 40), strings.Repeat("h", 300), "/"+strings.Repeat("é", 1100), strings.Repeat("u", 600), strings.Repeat("r", 2000), 599, int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, method, host, target, ua, referer string, status int, n, unixNano int64) {
		r := &http.Request{Method: method, Host: host, RequestURI: target, URL: &url.URL{},
			Header: http.Header{"User-Agent": {ua}, "Referer": {referer}}, ProtoMajor: 1, ProtoMinor: 1}
		var rec accessRecord
		at := time.Unix(0, unixNano)
		rec.fill(r, "prod", status, n, at, 1500*time.Microsecond, netip.MustParseAddr("2001:db8::1"), status%2 == 0)
		var c stampCache
		line := rec.appendJSON(nil, &c)
		if again := rec.appendJSON(nil, &c); string(again) != string(line) {
			t.Fatalf("the cached second differs: %q, then %q", line, again)
		}
		if !json.Valid(line) || line[len(line)-1] != '\n' || strings.Count(string(line), "\n") != 1 {
			t.Fatalf("not one JSON line: %q", line)
		}
		var got accessLine
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		path, _, q := strings.Cut(target, "?")
		if target == "" {
			path = ""
		}
		if i := strings.IndexAny(referer, "?#"); i >= 0 {
			referer = referer[:i]
		}
		want := accessLine{Time: at.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Env: "prod", Host: capped(host, capHost), Method: capped(method, capMethod),
			Path: capped(path, capPath), Query: q, Proto: "HTTP/1.1", Status: status, Bytes: n, Client: "2001:db8::1",
			UserAgent: capped(ua, capUA), Referer: capped(referer, capReferer), DurationMS: 1.5, TLS: status%2 == 0}
		if got != want {
			t.Fatalf("got  %+v\nwant %+v\nline %s", got, want, line)
		}
	})
}

// capped is s cut to n bytes, as JSON reads it back: each byte of invalid
// UTF-8 a U+FFFD (string to []rune conversion does the same).
func capped(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return string([]rune(s))
}
