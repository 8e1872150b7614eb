package h1

import (
	"net/http"
	"testing"
)

// BenchmarkParseHead: the lean loop's request-head parser on the head
// wrk sends and on a browser's, as a connection's first request and as
// the same head again on a keep-alive connection.
func BenchmarkParseHead(b *testing.B) {
	for _, c := range []struct{ name, head string }{
		{"wrk", "GET /assets/app.1e4f7ff4d6.js HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nAccept-Encoding: gzip\r\n\r\n"},
		{"browser", "GET /assets/index-4f6a2b.js?v=3 HTTP/1.1\r\nHost: shop.example.com\r\n" +
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
			"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
			"Referer: https://shop.example.com/\r\nSec-Fetch-Dest: script\r\nSec-Fetch-Mode: cors\r\n" +
			"Sec-Fetch-Site: same-origin\r\nConnection: keep-alive\r\nIf-None-Match: \"abc\"\r\n\r\n"},
	} {
		for _, keep := range []bool{false, true} {
			name := c.name + "/first" // the connection's first request
			if keep {
				name = c.name + "/again" // the same head again on a keep-alive connection
			}
			b.Run(name, func(b *testing.B) {
				buf := []byte(c.head)
				hdr := http.Header{}
				var seen []string
				var p parsed
				b.ReportAllocs()
				for b.Loop() {
					if !keep {
						clear(hdr)
						p = parsed{}
					}
					if parseHead(buf, hdr, &seen, &p) != accept {
						b.Fatal("not accepted")
					}
				}
			})
		}
	}
}
