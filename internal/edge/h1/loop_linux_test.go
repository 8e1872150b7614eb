package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startLoops serves h with the event loops on loopback; fb's timeouts
// apply. It returns the address and the server.
func startLoops(t *testing.T, h handlerFunc, fb *http.Server, loops int) (string, *Server) {
	t.Helper()
	return startLoopsGated(t, h, fb, loops, nil)
}

// startLoopsGated is startLoops with a Server.Gate (nil: none).
func startLoopsGated(t *testing.T, h handlerFunc, fb *http.Server, loops int, g Gate) (string, *Server) {
	t.Helper()
	fb.Handler = h
	fb.ErrorLog = log.New(io.Discard, "", 0)
	s := &Server{Handler: h, Fallback: fb, Loops: loops, Gate: g}
	addr, done := serveLoopback(t, s)
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return addr, s
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// dialKeep connects to addr, asks for path on a keep-alive connection and
// checks the body; the connection stays open for more.
func dialKeep(t *testing.T, addr, path, want string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if got := roundTripKeep(t, c, path); got != want {
		t.Fatalf("GET %s: %q, want %q", path, got, want)
	}
	return c
}

// dialSmall connects with a small receive buffer, so answers larger than
// the socket buffers make the server queue.
func dialSmall(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { // before connect: the window is negotiated for it
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*net.TCPConn)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLoopQueuesAnswersForSlowReaders: answers far larger than the socket
// buffers (a file the handler closes right after SendFile, and a body from
// memory), pipelined behind each other, arrive whole and in order at a
// client that reads slowly: the loop queues what the socket does not take
// and keeps serving other connections meanwhile.
func TestLoopQueuesAnswersForSlowReaders(t *testing.T) {
	fileBody := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	// 8 MiB: twice the most a socket's send buffer grows to (tcp_wmem's
	// 4 MiB), so the one write can never be taken whole. At 2 MiB a
	// buffer grown while the client read the file answer sometimes took
	// it all, and the test failed about one run in fifteen.
	memBody := bytes.Repeat([]byte("ZYXW"), 1<<21)
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, fileBody, 0o644); err != nil {
		t.Fatal(err)
	}
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/file":
			answerFile(t, w, name, len(fileBody))
		case "/mem":
			w.Header().Set("Content-Length", strconv.Itoa(len(memBody)))
			_, _ = w.Write(memBody)
		default:
			_, _ = io.WriteString(w, "small")
		}
	})
	addr, s := startLoops(t, h, &http.Server{WriteTimeout: time.Minute}, 1)
	slow := dialSmall(t, addr)
	if _, err := io.WriteString(slow, "GET /file HTTP/1.1\r\nHost: a\r\n\r\nGET /mem HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	dialKeep(t, addr, "/x", "small") // served while slow's answers wait in the queue
	br := bufio.NewReaderSize(slow, 1024)
	for _, want := range [][]byte{fileBody, memBody, []byte("small")} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for { // read in small steps: a slow reader
			n, err := io.CopyN(&got, resp.Body, 64<<10)
			if err != nil || n == 0 {
				break
			}
		}
		resp.Body.Close()
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("body of %d bytes differs from the %d expected", got.Len(), len(want))
		}
	}
	if q := s.Stats().Queued; q < 2 {
		t.Fatalf("output queued %d times, want both large answers queued", q)
	}
}

// TestLoopWriteTimeout: a client that stops reading its answer is closed
// once WriteTimeout passes; the answer is not completed.
func TestLoopWriteTimeout(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 8<<20)
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:1<<20]) // within queueMax: the handler returns
		_, _ = w.Write(body[1<<20:]) // past it: waits for the client, up to the timeout
	})
	addr, s := startLoops(t, h, &http.Server{WriteTimeout: 300 * time.Millisecond}, 1)
	c := dialSmall(t, addr)
	start := time.Now()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection to be served", func() bool { return s.Stats().Fast == 1 })
	waitFor(t, "the server to close the connection", func() bool { return s.Stats().Open == 0 })
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the write timeout", took)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(c)
	if len(got) >= len(body) {
		t.Fatalf("read %d bytes: the whole answer, though the client stalled", len(got))
	}
}

// TestLoopPanicClosesOnlyItsConnection: a handler panic closes that
// connection; the loop goes on serving the others.
func TestLoopPanicClosesOnlyItsConnection(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		_, _ = io.WriteString(w, "ok")
	})
	addr, _ := startLoops(t, h, &http.Server{}, 1)
	keep := dialKeep(t, addr, "/a", "ok")
	if got := roundTrip(t, addr, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\n"); got != "" {
		t.Fatalf("panicking request got %q, want the connection closed", got)
	}
	if got := roundTripKeep(t, keep, "/b"); got != "ok" {
		t.Fatalf("after: %q", got)
	}
}

// TestLoopsShareTheListener: with several loops every connection is
// served, concurrently, each by one loop.
func TestLoopsShareTheListener(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi "+r.URL.Path) })
	addr, s := startLoops(t, h, &http.Server{}, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for j := range 5 {
				path := fmt.Sprintf("/%d/%d", i, j)
				if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "hi "+path {
					errs <- fmt.Errorf("%s: %q", path, b)
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
	if st := s.Stats(); st.Fast != 200 {
		t.Fatalf("served %d requests on the loops, want 200", st.Fast)
	}
}

// TestLoopsBalanceConnections: connections opened at once are spread
// evenly over the loops, whichever loop accepts them, and a loop's load
// falls back to zero when its connections close.
func TestLoopsBalanceConnections(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	addr, s := startLoops(t, h, &http.Server{}, 3)
	conns := make([]net.Conn, 30)
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() { // open all at once, as a load generator does
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err == nil {
				conns[i] = c
				_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			}
			if err == nil {
				var resp *http.Response
				if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					resp.Body.Close()
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	loads := func() []int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		var n []int64
		for _, l := range s.loops {
			n = append(n, l.load.Load())
		}
		return n
	}
	n := loads()
	lo, hi := n[0], n[0]
	for _, v := range n {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo+hi == 0 || hi-lo > 2 || n[0]+n[1]+n[2] != 30 {
		t.Fatalf("connections per loop %v, want 30 spread within 2", n)
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	waitFor(t, "the loops to see the connections close", func() bool {
		n := loads()
		return n[0] == 0 && n[1] == 0 && n[2] == 0 && s.Stats().Open == 0
	})
}

// TestLoopCloseDropsConnections: Close ends every connection at once,
// busy or idle, and Serve returns.
func TestLoopCloseDropsConnections(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h}}
	addr, done := serveLoopback(t, s)
	idle := dialKeep(t, addr, "/", "ok")
	partial, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	_, _ = io.WriteString(partial, "GET / HTTP/1.1\r\n")
	waitFor(t, "both connections", func() bool { return s.Stats().Open == 2 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	for _, c := range []net.Conn{idle, partial} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection still open after Close: %v", err)
		}
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("listener still accepting after Close")
	}
}

// TestLoopShutdownWithQueuedAnswer: Shutdown lets an answer waiting in
// the queue finish before it closes the connection.
func TestLoopShutdownWithQueuedAnswer(t *testing.T) {
	body := bytes.Repeat([]byte("q"), 8<<20)
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, body, 0o644); err != nil {
		t.Fatal(err)
	}
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { answerFile(t, w, name, len(body)) })
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h}}
	addr, done := serveLoopback(t, s)
	c := dialSmall(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the answer to be queued", func() bool { return s.Stats().Queued == 1 })
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes (%v), want the %d of the answer", len(got), err, len(body))
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// TestLoopHeadsInPieces: pipelined requests that arrive in pieces of any
// size (down to one byte per write) are each answered once, in order.
func TestLoopHeadsInPieces(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path+" "+r.Header.Get("X-N"))
	})
	addr, s := startLoops(t, h, &http.Server{}, 1)
	var raw strings.Builder
	for i := range 5 {
		fmt.Fprintf(&raw, "GET /r%d?q=%d HTTP/1.1\r\nHost: a\r\nX-N: %d\r\nAccept: */*\r\n\r\n", i, i, i)
	}
	for _, piece := range []int{1, 2, 7, 33, 1000} {
		t.Run(strconv.Itoa(piece), func(t *testing.T) {
			before := s.Stats().Fast
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() {
				b := []byte(raw.String())
				for len(b) > 0 {
					n := min(piece, len(b))
					if _, err := c.Write(b[:n]); err != nil {
						return
					}
					b = b[n:]
				}
			}()
			br := bufio.NewReader(c)
			for i := range 5 {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf("/r%d %d", i, i); string(b) != want {
					t.Fatalf("answer %d: %q, want %q", i, b, want)
				}
			}
			if got := s.Stats().Fast - before; got != 5 {
				t.Fatalf("%d requests served on the loop, want 5", got)
			}
		})
	}
}

// TestLoopInterleavedHeadsKeepTheirBytes: heads sent in pieces on many
// connections at once, the pieces interleaved, each connection pipelining
// several requests. The loop lends one read buffer and one set of header
// maps to whichever connection it serves; every answer must still carry its
// own connection's path and fields.
func TestLoopInterleavedHeadsKeepTheirBytes(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("X-Conn"))
		_, _ = io.WriteString(w, r.URL.Path+" "+r.Header.Get("X-Conn")+" "+r.Header.Get("X-N")+" "+strings.Join(r.Header.Values("X-Only"), ","))
	})
	addr, s := startLoops(t, h, &http.Server{}, 1)
	const conns, reqs = 24, 3
	rng := rand.New(rand.NewPCG(4, 2))
	cs := make([]net.Conn, conns)
	left := make([][]byte, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
		var raw strings.Builder
		for j := range reqs {
			fmt.Fprintf(&raw, "GET /c%d/r%d HTTP/1.1\r\nHost: a\r\nX-Conn: %d\r\nX-N: %d\r\n", i, j, i, j)
			if (i+j)%3 == 0 { // a field the other heads lack
				fmt.Fprintf(&raw, "X-Only: %d-%d\r\n", i, j)
			}
			raw.WriteString("\r\n")
		}
		left[i] = []byte(raw.String())
	}
	before := s.Stats().Fast
	go func() { // pieces of 1–40 bytes, a random connection each time
		for pending := conns; pending > 0; {
			i := rng.IntN(conns)
			if len(left[i]) == 0 {
				continue
			}
			n := min(1+rng.IntN(40), len(left[i]))
			if _, err := cs[i].Write(left[i][:n]); err != nil {
				return
			}
			if left[i] = left[i][n:]; len(left[i]) == 0 {
				pending--
			}
		}
	}()
	for i, c := range cs {
		br := bufio.NewReader(c)
		for j := range reqs {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("conn %d answer %d: %v", i, j, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			only := ""
			if (i+j)%3 == 0 {
				only = fmt.Sprintf("%d-%d", i, j)
			}
			if want := fmt.Sprintf("/c%d/r%d %d %d %s", i, j, i, j, only); string(b) != want {
				t.Fatalf("conn %d answer %d: %q, want %q", i, j, b, want)
			}
			if got := resp.Header.Get("X-Echo"); got != strconv.Itoa(i) {
				t.Fatalf("conn %d answer %d: X-Echo %q", i, j, got)
			}
		}
	}
	if got := s.Stats().Fast - before; got != conns*reqs {
		t.Fatalf("%d requests served on the loop, want %d", got, conns*reqs)
	}
}

// TestLoopIdleConnectionsHoldNoBuffers: keep-alive connections waiting for
// their next request hold no read or output buffer of their own (the loop
// lends its own while serving), so many idle clients cost little memory:
// about 1 KB each here, against 12 KB or more with buffers per connection.
func TestLoopIdleConnectionsHoldNoBuffers(t *testing.T) {
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, "ok")
	})
	addr, _ := startLoops(t, h, &http.Server{}, 1)
	dialKeep(t, addr, "/warm", "ok")
	const n = 400
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cs := dialAsking(t, addr, n, "GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: idle\r\nAccept: */*\r\n\r\n")
	var buf [512]byte
	for _, c := range cs { // every connection answered: now idle on the loop
		if _, err := c.Read(buf[:]); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := (int64(m1.HeapAlloc) - int64(m0.HeapAlloc)) / n // both ends' connection state
	t.Logf("heap per idle connection, client and server side: %d B", per)
	if per > 4<<10 {
		t.Fatalf("%d B of heap per idle keep-alive connection, want < 4 KB (no buffers held between requests)", per)
	}
}

// answerFile answers with the file name, n bytes long: with sendfile
// through FileSender on the lean loop, copied on net/http's writer (after
// a handover). The file is closed on return, while the answer may still
// wait in the loop's queue.
func answerFile(t *testing.T, w http.ResponseWriter, name string, n int) {
	f, err := os.Open(name)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Length", strconv.Itoa(n))
	if fs, ok := w.(FileSender); ok {
		_, _ = fs.SendFile(f, 0, int64(n), false)
		return
	}
	_, _ = io.Copy(w, f)
}

// dialAsking opens n connections to addr, each sending raw and left open
// until the test ends.
func dialAsking(t *testing.T, addr string, n int, raw string) []net.Conn {
	t.Helper()
	cs := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// TestLoopsKeepAProcSpare: serving with as many loops as there are Ps
// raises GOMAXPROCS by one (spareProc), so sysmon does not take the Ps of
// loops waiting in epoll_wait back at every tick; GOMAXPROCS set in the
// environment is the operator's and stays.
func TestLoopsKeepAProcSpare(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") })

	t.Setenv("GOMAXPROCS", "2")
	addr, _ := startLoops(t, h, &http.Server{}, 2)
	dialKeep(t, addr, "/", "hi").Close()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS set in the environment: %d Ps after serving, want it left at 2", got)
	}

	t.Setenv("GOMAXPROCS", "")
	addr, _ = startLoops(t, h, &http.Server{}, 2)
	dialKeep(t, addr, "/", "hi").Close()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("two loops on two Ps: %d Ps after serving, want 3", got)
	}
}
