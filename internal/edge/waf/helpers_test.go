package waf

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// Browser header sets as sent by current Chrome and Firefox on a page load.
var (
	chromeHeaders = map[string]string{
		"User-Agent":                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
		"Accept-Encoding":           "gzip, deflate, br, zstd",
		"Accept-Language":           "en-ZA,en-GB;q=0.9,en-US;q=0.8,en;q=0.7",
		"Cache-Control":             "max-age=0",
		"Sec-Ch-Ua":                 `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`,
		"Sec-Ch-Ua-Mobile":          "?0",
		"Sec-Ch-Ua-Platform":        `"Windows"`,
		"Sec-Fetch-Dest":            "document",
		"Sec-Fetch-Mode":            "navigate",
		"Sec-Fetch-Site":            "none",
		"Sec-Fetch-User":            "?1",
		"Upgrade-Insecure-Requests": "1",
		"Cookie":                    "_ga=GA1.1.1234567890.1732600000; theme=dark; StaticWebAppsAuthCookie=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl",
	}
	firefoxHeaders = map[string]string{
		"User-Agent":                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Encoding":           "gzip, deflate, br, zstd",
		"Accept-Language":           "en-US,en;q=0.5",
		"Connection":                "keep-alive",
		"Upgrade-Insecure-Requests": "1",
		"Sec-Fetch-Dest":            "document",
		"Sec-Fetch-Mode":            "navigate",
		"Sec-Fetch-Site":            "same-origin",
		"Priority":                  "u=0, i",
		"Referer":                   "https://shop.example.com/products?q=shoes&page=2",
	}
)

// request builds a server-side request as net/http hands it to a handler.
func request(t testing.TB, method, target string, headers map[string]string, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, "http://shop.example.com"+target, rd)
	if err != nil {
		t.Fatalf("request %s %q: %v", method, target, err)
	}
	r.RequestURI = target
	r.Host = "shop.example.com"
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

func with(base map[string]string, kv ...string) map[string]string {
	h := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

func mustNew(t testing.TB, c Config) *Firewall {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	if f == nil {
		t.Fatalf("New(%+v) = nil", c)
	}
	return f
}

var publicClient = netip.MustParseAddr("203.0.113.7")

func describe(r *http.Request) string { return fmt.Sprintf("%s %s", r.Method, r.RequestURI) }

func init() {
	onPanic = func(p any) { panic(fmt.Sprintf("Inspect recovered from a panic: %v", p)) }
}
