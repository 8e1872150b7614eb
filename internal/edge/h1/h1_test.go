package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// handlerFunc adapts a function to both Handler and http.Handler.
type handlerFunc func(w http.ResponseWriter, r *http.Request)

func (f handlerFunc) ServeFast(w http.ResponseWriter, r *http.Request) bool { f(w, r); return true }
func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request)      { f(w, r) }

// serve runs h on loopback, with the lean loop (lean=true) or with net/http
// alone, and returns the address.
func serve(t *testing.T, h handlerFunc, lean bool) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, WriteTimeout: time.Minute}
	var s *Server
	done := make(chan error, 1)
	if lean {
		s = &Server{Handler: h, Fallback: hs}
		go func() { done <- s.Serve(ln) }()
	} else {
		go func() { done <- hs.Serve(ln) }()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if lean {
			err = s.Shutdown(ctx)
		} else {
			err = hs.Shutdown(ctx)
		}
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), s
}

// serveLoopback runs s on a new loopback listener and returns its address
// and what Serve returns; the test stops s itself.
func serveLoopback(t *testing.T, s *Server) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return ln.Addr().String(), done
}

// roundTrip sends raw, half-closes and reads all until the server closes.
func roundTrip(t *testing.T, addr, raw string) string { return testkit.RawExchange(t, addr, raw) }

// TestResponseWriterMatchesNetHTTP drives both servers with handlers that
// use the ResponseWriter in the ways net/http gives meaning to.
func TestResponseWriterMatchesNetHTTP(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("<html>0123456789"), 6000), 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(t.TempDir(), "small")
	if err := os.WriteFile(small, []byte("%PDF-1.4 tiny"), 0o644); err != nil {
		t.Fatal(err)
	}
	sendFile := func(name string, setLen bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(name)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if setLen {
				st, _ := f.Stat()
				w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
			}
			_, _ = io.Copy(w, f)
		}
	}
	tests := []struct {
		name string
		h    handlerFunc
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}},
		{"status only", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }},
		{"sniffed html", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<!doctype html><p>x") }},
		{"content-type kept", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/x-mine")
			_, _ = io.WriteString(w, "<html>")
		}},
		{"content-type suppressed", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			_, _ = io.WriteString(w, "<html>")
		}},
		{"content-encoding no sniff", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = io.WriteString(w, "\x1f\x8b")
		}},
		{"many small writes", func(w http.ResponseWriter, r *http.Request) {
			for range 100 {
				_, _ = io.WriteString(w, "abcdefghij")
			}
		}},
		{"chunked when large", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(bytes.Repeat([]byte("z"), 3000))
			_, _ = io.WriteString(w, "tail")
		}},
		{"declared length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "40000")
			_, _ = w.Write(bytes.Repeat([]byte("y"), 40000))
		}},
		{"write too much", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			_, err := io.WriteString(w, "abcd")
			_, _ = io.WriteString(w, err.Error())
		}},
		{"304 drops entity headers", func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/plain")
			h.Set("Content-Length", "10")
			h.Set("Etag", `"x"`)
			w.WriteHeader(http.StatusNotModified)
			_, err := io.WriteString(w, "body")
			h.Set("X-Late", err.Error()) // ignored: after WriteHeader
		}},
		{"204", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
		}},
		{"unknown status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) }},
		{"superfluous WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "tea")
		}},
		{"header sanitizing", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-Multi"] = []string{"a", " b\r\nc ", ""}
			w.Header()["Bad Name"] = []string{"dropped"}
			w.Header()["lower-case"] = []string{"kept as is"}
		}},
		{"own Date and Connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", "yesterday")
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "bye")
		}},
		{"transfer-encoding identity", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "identity")
			_, _ = io.WriteString(w, "raw")
		}},
		{"flush", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "part1")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "part2")
		}},
		{"1xx hint", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "after hints")
		}},
		{"sendfile with length", sendFile(big, true)},
		{"sendfile without length", sendFile(big, false)},
		{"small file without length", sendFile(small, false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slow, _ := serve(t, tc.h, false)
			fast, s := serve(t, tc.h, true)
			for _, raw := range []string{
				"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
				"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n",
				"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
				"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
			} {
				want, got := roundTrip(t, slow, raw), roundTrip(t, fast, raw)
				if want != got {
					t.Fatalf("%q\nnet/http:\n%q\nlean:\n%q", raw, want, got)
				}
			}
			// 5 requests, or 4 when the answer closes the connection
			if st := s.Stats(); st.Fast < 4 || st.HandedOff != 0 {
				t.Fatalf("stats %+v, want every request on the lean loop", st)
			}
		})
	}
}

// TestRequestAsNetHTTPBuildsIt checks the fields handlers read.
func TestRequestAsNetHTTPBuildsIt(t *testing.T) {
	var got []string
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" ? "+r.URL.RawQuery+" host="+r.Host+" uri="+r.RequestURI+
			" proto="+r.Proto+" close="+map[bool]string{true: "1", false: "0"}[r.Close]+
			" hdr="+strings.Join(r.Header.Values("X-A"), "|")+" ae="+r.Header.Get("Accept-Encoding"))
	})
	addr, s := serve(t, h, true)
	roundTrip(t, addr, "GET /p%20q/r?x=1&y=%2F HTTP/1.1\r\nhost: Example.COM:80\r\nX-A: 1\r\nx-a:  2 \r\n"+
		"ACCEPT-ENCODING: gzip\r\n\r\nHEAD /?a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	want := []string{
		"GET /p q/r ? x=1&y=%2F host=Example.COM:80 uri=/p%20q/r?x=1&y=%2F proto=HTTP/1.1 close=0 hdr=1|2 ae=gzip",
		"HEAD / ? a host=h uri=/?a proto=HTTP/1.1 close=1 hdr= ae=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := s.Stats(); st.Fast != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// FuzzParseHead: the parser never panics, and whatever it accepts,
// net/http parses to the same request.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /x?y=1 HTTP/1.1\r\nHost: a:80\r\nAccept-Encoding: gzip\r\nCookie: a=b\r\n\r\n",
		"GET /%2e%2e/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nX:  \t v \t\r\nx: w\r\n\r\n",
		"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	// The fuzzed head is parsed into the fields a previous head on the
	// connection left (parseHead reuses them): none, or a browser's.
	prev := []byte("GET /a HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nCookie: a=b\r\n" +
		"Accept: */*\r\nX: 1\r\nX: 2\r\nUser-Agent: t\r\n\r\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, before := range [][]byte{nil, prev} {
			hdr := http.Header{}
			var seen []string
			var p parsed
			if before != nil && parseHead(before, hdr, &seen, &p) != accept {
				t.Fatal("the previous head is not accepted")
			}
			checkParse(t, b, hdr, &seen, &p)
		}
	})
}

// checkParse parses b into hdr and, when accepted, compares the result
// with net/http's parse of the same head.
func checkParse(t *testing.T, b []byte, hdr http.Header, seen *[]string, p *parsed) {
	t.Helper()
	if parseHead(b, hdr, seen, p) != accept {
		return
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b[:p.size])))
	if err != nil {
		t.Fatalf("accepted %q, net/http: %v", b, err)
	}
	req.Header.Del("Host")
	same := req.Method == p.method && req.URL.Path == p.path && req.URL.RawQuery == p.query &&
		req.Host == p.host && req.RequestURI == p.target && req.Close == p.close && req.ContentLength == 0
	if !same || !equalHeader(req.Header, hdr) {
		t.Fatalf("%q: net/http %s %q %q host %q close %v %v; lean %+v %v", b, req.Method, req.URL.Path,
			req.URL.RawQuery, req.Host, req.Close, req.Header, p, hdr)
	}
	if cond := Conditional(req.Header); p.cond != cond {
		t.Fatalf("%q: Conditional %v, but the fields say %v", b, p.cond, cond)
	}
}

// TestHeadFacts: the lean loop's writer tells a handler whether the head
// had a precondition or Range, and the peer's address, parsed, for every
// request of a keep-alive connection.
func TestHeadFacts(t *testing.T) {
	var got []string
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hf := w.(HeadFacts)
		ok := hf.Peer().String() == r.RemoteAddr && hf.Peer().Addr().IsLoopback()
		got = append(got, r.URL.Path+" "+strconv.FormatBool(hf.Conditional())+" "+strconv.FormatBool(ok))
	})
	addr, _ := serve(t, h, true)
	roundTrip(t, addr, "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n"+
		"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"+
		"GET /c HTTP/1.1\r\nHost: h\r\nif-none-match: \"x\"\r\n\r\n"+
		"GET /d HTTP/1.1\r\nHost: h\r\nIf-Range: \"x\"\r\nConnection: close\r\n\r\n")
	want := "/a true true,/b false true,/c true true,/d true true"
	if g := strings.Join(got, ","); g != want {
		t.Fatalf("got %s, want %s", g, want)
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") || len(v) != len(b[k]) {
			return false
		}
	}
	return true
}

// TestShutdownLetsRequestsFinish: Shutdown waits for a request in
// progress (its answer closes the connection), closes idle connections
// and makes Serve return ErrServerClosed. The handler runs on the event
// loop, so the idle connection closes once that loop is free again.
func TestShutdownLetsRequestsFinish(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		_, _ = io.WriteString(w, "done "+r.URL.Path)
	})
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h}}
	addr, served := serveLoopback(t, s)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if got := roundTripKeep(t, idle, "/fast"); !strings.HasSuffix(got, "done /fast") {
		t.Fatalf("idle conn: %q", got)
	}
	busy := make(chan string, 1)
	go func() { busy <- roundTrip(t, addr, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n") }()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a request was in progress", err)
	case <-time.After(50 * time.Millisecond): // a bound for the assertion, not a synchronisation
	}
	close(release)
	if got := <-busy; !strings.Contains(got, "Connection: close\r\n") || !strings.HasSuffix(got, "done /slow") {
		t.Fatalf("in-flight answer: %q", got)
	}
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle connection not closed by shutdown: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// roundTripKeep sends one GET on c and reads its answer, keeping c open.
func roundTripKeep(t *testing.T, c net.Conn, path string) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestSlowClientsTimeOut: a head that never completes and an idle
// keep-alive connection are both closed by their timeouts.
func TestSlowClientsTimeOut(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	fb := &http.Server{Handler: h, ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 200 * time.Millisecond}
	s := &Server{Handler: h, Fallback: fb}
	addr, _ := serveLoopback(t, s)
	t.Cleanup(func() { _ = s.Close() })
	for name, first := range map[string]string{
		"partial head": "GET / HTTP/1.1\r\nHost: a\r\n",
		"idle":         "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // the test's own bound
			start := time.Now()
			if _, err := io.WriteString(c, first); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(c) // ends when the server closes
			if err != nil {
				t.Fatalf("read: %v (after %v)", err, time.Since(start))
			}
			if took, least := time.Since(start), map[string]time.Duration{"idle": 200 * time.Millisecond}[name]; took < least {
				t.Fatalf("closed after %v, before the %v timeout", took, least)
			}
			if name == "idle" && !strings.HasSuffix(string(b), "ok") {
				t.Fatalf("answer %q", b)
			}
		})
	}
}

// TestParseHeadReusesFields: parsing into the previous head's fields
// leaves exactly the new head's, whatever the handler did to the map, and
// a value that came again unchanged keeps its string.
func TestParseHeadReusesFields(t *testing.T) {
	hdr := http.Header{}
	var seen []string
	var p parsed
	first := "GET /a HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nCookie: a=1\r\nX: 1\r\nX: 2\r\nGone: g\r\n\r\n"
	if parseHead([]byte(first), hdr, &seen, &p) != accept {
		t.Fatal("first head not accepted")
	}
	ae := unsafe.StringData(hdr["Accept-Encoding"][0])
	hdr["Injected"] = []string{"by a handler"}
	hdr["Cookie"][0] = "edited"
	second := "GET /b HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nX: 3\r\nAccept-Encoding: gzip\r\nY: 1\r\nY: 2\r\n\r\n"
	if parseHead([]byte(second), hdr, &seen, &p) != accept {
		t.Fatal("second head not accepted")
	}
	want := http.Header{"Accept-Encoding": {"gzip"}, "Cookie": {"a=1"}, "X": {"3"}, "Y": {"1", "2"}}
	if !equalHeader(hdr, want) {
		t.Fatalf("fields %v, want %v", hdr, want)
	}
	if unsafe.StringData(hdr["Accept-Encoding"][0]) != ae {
		t.Error("an unchanged value was copied again")
	}
}

// TestCanonicalKey: the table's names, in any case, and names next to
// them come out as textproto makes them.
func TestCanonicalKey(t *testing.T) {
	var names []string
	for _, k := range commonKeys {
		up, low := strings.ToUpper(k), strings.ToLower(k)
		mixed := []byte(low)
		for i := 0; i < len(mixed); i += 2 {
			mixed[i] = up[i]
		}
		names = append(names, k, up, low, string(mixed), k+"s", k[:len(k)-1], "X"+k[1:],
			strings.ReplaceAll(k, "-", "_"), strings.ReplaceAll(low, "a", "^"), strings.ReplaceAll(low, "e", "~"))
	}
	for _, n := range names {
		if got, want := canonicalKey([]byte(n)), textproto.CanonicalMIMEHeaderKey(n); got != want {
			t.Errorf("canonicalKey(%q) = %q, textproto says %q", n, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { canonicalKey([]byte("aCCEPT-eNCODING")) }); n != 0 {
		t.Errorf("a common name allocates (%v)", n)
	}
}
