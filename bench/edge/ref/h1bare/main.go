// Command h1bare is the edge's HTTP/1.1 event loop (internal/edge/h1) with a
// handler that answers every request with one file and a fixed header
// block: the loop, the head parser and the response writer, without the
// edge's routing, negotiation and telemetry. Between gobare (the bare loop)
// and the edge it splits the edge's cost per request into the HTTP layer's
// and the handler's (bench/edge/run.sh, STEPS=ref). Not part of Phoenix.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

// fileHandler answers with f whatever is asked.
type fileHandler struct {
	f     *os.File
	size  int64
	block []byte
}

func (h *fileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.ServeFast(w, r) }

func (h *fileHandler) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	w.(h1.HeadBlockWriter).WriteHeaderBlock(http.StatusOK, h.size, h.block)
	_, _ = w.(h1.FileSender).SendFile(h.f, 0, h.size, true)
	return true
}

func main() {
	addr := flag.String("listen", "127.0.0.1:18094", "loopback address")
	file := flag.String("file", "", "the file every request gets")
	flag.Parse()
	if err := run(*addr, *file); err != nil {
		fmt.Fprintln(os.Stderr, "h1bare:", err)
		os.Exit(1)
	}
}

func run(addr, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hd := http.Header{
		"Accept-Ranges":    {"bytes"},
		"Cache-Control":    {"public, max-age=31536000, immutable"},
		"Content-Encoding": {"gzip"},
		"Content-Length":   {strconv.FormatInt(st.Size(), 10)},
		"Content-Type":     {"text/javascript; charset=utf-8"},
		"Etag":             {`"0123456789abcdef0123456789abcdef"`},
		"Vary":             {"Accept-Encoding"},
	}
	h := &fileHandler{f: f, size: st.Size(), block: h1.AppendFields(nil, hd)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &h1.Server{Handler: h, Fallback: &http.Server{Handler: h}, Loops: 1}
	return s.Serve(ln)
}
