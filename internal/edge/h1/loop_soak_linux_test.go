package h1

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// soakReq is one request of a soak session and what its answer must be.
type soakReq struct {
	raw  string
	want string // the body expected
}

// TestLoopSoak runs many clients at once against two event loops, each
// session a random mix of what the loops must keep apart: pipelined heads
// sent in random pieces, requests with bodies (handed to net/http with the
// bytes already read), large file and memory answers that queue for
// clients with small receive windows, and clients that hang up in the
// middle of an answer. Every answer a client reads must be its own
// request's, and once the clients are gone no connection may be left open.
func TestLoopSoak(t *testing.T) {
	fileBody := bytes.Repeat([]byte("soak-file-0123456789abcdef\n"), 80000) // ~2 MiB: more than the socket buffers take at once
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, fileBody, 0o644); err != nil {
		t.Fatal(err)
	}
	memBody := bytes.Repeat([]byte("m"), 1<<20)
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Token")
		switch {
		case r.URL.Path == "/file":
			answerFile(t, w, name, len(fileBody))
		case r.URL.Path == "/mem":
			w.Header().Set("Content-Length", strconv.Itoa(len(memBody)))
			_, _ = w.Write(memBody)
		case r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			sum := sha256.Sum256(b)
			_, _ = io.WriteString(w, "post "+tok+" "+hex.EncodeToString(sum[:8]))
		default:
			_, _ = io.WriteString(w, r.URL.Path+" "+tok+" "+r.Header.Get("X-Extra"))
		}
	})
	g := &capGate{max: 1 << 20, open: map[netip.Addr]int{}} // admits all, keeps the books
	addr, s := startLoopsGated(t, h, &http.Server{WriteTimeout: time.Minute}, 2, g)
	clients, sessions := 16, 12
	if testing.Short() {
		clients, sessions = 8, 6
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			for n := range sessions {
				var stall func() error // client 0 reads its first answer only once an answer queued
				if id == 0 && n == 0 {
					stall = func() error {
						for deadline := time.Now().Add(10 * time.Second); s.Stats().Queued == 0; time.Sleep(time.Millisecond) {
							if time.Now().After(deadline) {
								return fmt.Errorf("no answer queued in 10 s with a 2 MiB answer unread")
							}
						}
						return nil
					}
				}
				if err := soakSession(addr, rng, fmt.Sprintf("%d.%d", id, n), n == 0, stall, fileBody, memBody); err != nil {
					errs <- fmt.Errorf("client %d session %d: %w", id, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "every connection closed", func() bool { return s.Stats().Open == 0 })
	waitFor(t, "the gate told of every close", func() bool { o, _ := g.count(); return o == 0 }) // handed ones close in net/http
	g.mu.Lock()
	for _, e := range g.errs {
		t.Error(e)
	}
	g.mu.Unlock()
	st := s.Stats()
	t.Logf("served on the loops %d, handed to net/http %d, answers queued %d", st.Fast, st.HandedOff, st.Queued)
	if st.Fast == 0 || st.HandedOff == 0 || st.Queued == 0 {
		t.Fatalf("the soak missed a path: %+v", st)
	}
}

// soakSession runs one connection: 1–5 pipelined requests written in
// random pieces, their answers read and checked in order; one session in
// eight hangs up after the first answer has started. A first session has a
// small receive window and starts with the large answers, so the loops
// queue answers while serving the others (stall, when set, runs before the
// first answer is read).
func soakSession(addr string, rng *rand.Rand, tag string, first bool, stall func() error, fileBody, memBody []byte) error {
	var d net.Dialer
	if first || rng.IntN(3) == 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
			})
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var reqs []soakReq
	if first {
		reqs = append(reqs, soakReq{raw: "GET /file HTTP/1.1\r\nHost: a\r\n\r\n", want: string(fileBody)},
			soakReq{raw: "GET /mem HTTP/1.1\r\nHost: a\r\n\r\n", want: string(memBody)})
	}
	for i := range 1 + rng.IntN(5) {
		reqs = append(reqs, soakRequest(rng, fmt.Sprintf("%s.%d", tag, i), fileBody, memBody))
	}
	var raw bytes.Buffer
	for _, r := range reqs {
		raw.WriteString(r.raw)
	}
	var pieces [][]byte
	for b := raw.Bytes(); len(b) > 0; {
		n := min(1+rng.IntN(300), len(b))
		pieces, b = append(pieces, b[:n]), b[n:]
	}
	werr := make(chan error, 1)
	go func() {
		for _, p := range pieces {
			if _, err := c.Write(p); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	hangUp := !first && rng.IntN(8) == 0
	if stall != nil {
		if err := stall(); err != nil {
			return err
		}
	}
	br := bufio.NewReaderSize(c, 4096)
	for i, r := range reqs {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("answer %d: %w", i, err)
		}
		if hangUp {
			_, _ = io.CopyN(io.Discard, resp.Body, 100)
			c.Close()
			<-werr // the writer ends: done, or the connection is closed
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("answer %d: %w", i, err)
		}
		if string(body) != r.want {
			return fmt.Errorf("answer %d: %d bytes %.60q, want %d bytes %.60q", i, len(body), body, len(r.want), r.want)
		}
	}
	return <-werr
}

// soakRequest is a random request tagged tok and the body it must get.
func soakRequest(rng *rand.Rand, tok string, fileBody, memBody []byte) soakReq {
	switch k := rng.IntN(20); {
	case k == 0:
		return soakReq{raw: "GET /file HTTP/1.1\r\nHost: a\r\nX-Token: " + tok + "\r\n\r\n", want: string(fileBody)}
	case k == 1:
		return soakReq{raw: "GET /mem HTTP/1.1\r\nHost: a\r\nX-Token: " + tok + "\r\n\r\n", want: string(memBody)}
	case k <= 6:
		body := strings.Repeat(tok+";", 1+rng.IntN(400))
		sum := sha256.Sum256([]byte(body))
		return soakReq{
			raw:  fmt.Sprintf("POST /p HTTP/1.1\r\nHost: a\r\nX-Token: %s\r\nContent-Length: %d\r\n\r\n%s", tok, len(body), body),
			want: "post " + tok + " " + hex.EncodeToString(sum[:8]),
		}
	default:
		extra := strings.Repeat("x", rng.IntN(2000)) // heads of different sizes
		path := "/e/" + tok
		return soakReq{
			raw:  "GET " + path + " HTTP/1.1\r\nHost: a\r\nX-Token: " + tok + "\r\nX-Extra: " + extra + "\r\nAccept: */*\r\n\r\n",
			want: path + " " + tok + " " + extra,
		}
	}
}
