package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipedFile writes n random bytes to a file and returns them, the open
// file and a FilePipe of it; both close when the test ends.
func pipedFile(t *testing.T, n int) ([]byte, *os.File, *FilePipe) {
	t.Helper()
	body := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	_, _ = r.Read(body)
	name := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(name, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	p, err := NewFilePipe(f, int64(n))
	if err != nil {
		t.Fatalf("NewFilePipe: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return body, f, p
}

// pipeHandler answers /piped from p (and f), /file from f with sendfile
// and /little from the second file and pipe of more, if given.
func pipeHandler(t *testing.T, f *os.File, p *FilePipe, more ...any) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, p := f, p
		if r.URL.Path == "/little" {
			f, p = more[0].(*os.File), more[1].(*FilePipe)
		}
		w.Header().Set("Content-Length", strconv.FormatInt(p.Len(), 10))
		w.Header().Set("Content-Type", "application/octet-stream") // no sniffing: the head is complete
		fs, ok := w.(FileSender)
		if !ok {
			t.Error("the loop's writer is no FileSender")
			return
		}
		if r.URL.Path != "/file" {
			_, _ = fs.SendPiped(p, f, true)
			return
		}
		_, _ = fs.SendFile(f, 0, p.Len(), true)
	}
}

// ask sends method path (with the header lines extra) on c and reads the
// answer through br: its response and whole body. Safe off the test's
// goroutine.
func ask(c net.Conn, br *bufio.Reader, method, path, extra string) (*http.Response, []byte, error) {
	if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: a\r\n"+extra+"\r\n"); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// getKeep is ask's body, failing the test on an error.
func getKeep(t *testing.T, c net.Conn, br *bufio.Reader, method, path string) []byte {
	t.Helper()
	_, b, err := ask(c, br, method, path, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSendPipedAnswersFromThePipe: answers from a FilePipe carry the
// file's bytes exactly, on one keep-alive connection after another, and
// go through the pipe (tee and splice), not sendfile; HEAD sends no body.
func TestSendPipedAnswersFromThePipe(t *testing.T) {
	body, f, p := pipedFile(t, 100_000)
	addr, s := startLoops(t, pipeHandler(t, f, p), &http.Server{}, 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 20 {
		if got := getKeep(t, c, br, "GET", "/piped"); !bytes.Equal(got, body) {
			t.Fatalf("answer %d: %d bytes differ from the file's %d", i, len(got), len(body))
		}
	}
	if got := getKeep(t, c, br, "HEAD", "/piped"); len(got) != 0 {
		t.Fatalf("HEAD sent %d body bytes", len(got))
	}
	if got := getKeep(t, c, br, "GET", "/file"); !bytes.Equal(got, body) {
		t.Fatal("sendfile answer after piped ones differs")
	}
	// The client may have the last answer a moment before the loop counts it.
	waitFor(t, "20 answers counted as piped", func() bool { return s.Stats().Piped == 20 })
}

// TestSendPipedSlowReaderGetsTheRest: answers the socket cannot take at
// once (1 MiB files pipelined eight times to a client with a small receive
// buffer: more than a send buffer grows to) arrive whole: what the pipe
// did not get out of the answer that filled the socket is dropped from
// the loop's pipe, and the rest goes with sendfile from the queue. The
// next answer on the same loop goes through the pipe again, clean.
func TestSendPipedSlowReaderGetsTheRest(t *testing.T) {
	const asks = 8
	body, f, p := pipedFile(t, 1<<20)
	little, lf, lp := pipedFile(t, 40_000)
	addr, s := startLoops(t, pipeHandler(t, f, p, lf, lp), &http.Server{WriteTimeout: time.Minute}, 1)
	slow := dialSmall(t, addr)
	if _, err := io.WriteString(slow, strings.Repeat("GET /piped HTTP/1.1\r\nHost: a\r\n\r\n", asks)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an answer queued", func() bool { return s.Stats().Queued > 0 })
	br := bufio.NewReaderSize(slow, 1024)
	for i := range asks {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for { // a slow reader
			n, err := io.CopyN(&got, resp.Body, 32<<10)
			if err != nil || n == 0 {
				break
			}
		}
		resp.Body.Close()
		if !bytes.Equal(got.Bytes(), body) {
			t.Fatalf("slow answer %d: %d bytes differ from the file's %d", i, got.Len(), len(body))
		}
	}
	before := s.Stats().Piped
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := getKeep(t, c, bufio.NewReader(c), "GET", "/little"); !bytes.Equal(got, little) {
		t.Fatal("the answer after a partial one differs: the loop's pipe was not emptied")
	}
	// The client may have the answer a moment before the loop counts it.
	waitFor(t, "the next answer counted as piped", func() bool { return s.Stats().Piped > before })
}

// TestSendPipedFromManyLoops: one FilePipe answers on two loops at once.
func TestSendPipedFromManyLoops(t *testing.T) {
	body, f, p := pipedFile(t, 40_000)
	addr, _ := startLoops(t, pipeHandler(t, f, p), &http.Server{}, 2)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for range 50 {
				if _, got, err := ask(c, br, "GET", "/piped", ""); err != nil || !bytes.Equal(got, body) {
					t.Errorf("a concurrent piped answer differs from the file (%v)", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestFilePipeLimits: a file over pipeFileMax, or past the budget, gets no
// pipe; a file shorter than said gets none; closing gives the budget back.
func TestFilePipeLimits(t *testing.T) {
	_, f, p := pipedFile(t, 50_000)
	held := PipeBytes()
	if held < defaultPipeSize {
		t.Fatalf("%d bytes held with a pipe open", held)
	}
	if _, err := NewFilePipe(f, pipeFileMax+1); !errors.Is(err, ErrPipeBudget) {
		t.Fatalf("a file over %d bytes: %v, want ErrPipeBudget", pipeFileMax, err)
	}
	if _, err := NewFilePipe(f, 60_000); err == nil {
		t.Fatal("a pipe of 60,000 bytes from a file of 50,000")
	}
	if PipeBytes() != held {
		t.Fatalf("failed pipes hold %d bytes, want %d", PipeBytes()-held, 0)
	}
	old := pipeBudget
	pipeBudget = held + defaultPipeSize
	defer func() { pipeBudget = old }()
	q, err := NewFilePipe(f, 50_000)
	if err != nil {
		t.Fatalf("a pipe within the budget: %v", err)
	}
	if _, err := NewFilePipe(f, 50_000); !errors.Is(err, ErrPipeBudget) {
		t.Fatalf("a pipe past the budget: %v, want ErrPipeBudget", err)
	}
	q.Close()
	q.Close() // twice is harmless and gives back once
	if PipeBytes() != held {
		t.Fatalf("%d bytes held after closing, want %d", PipeBytes(), held)
	}
	p.Close()
	if PipeBytes() != held-defaultPipeSize {
		t.Fatalf("%d bytes held after closing all, want %d", PipeBytes(), held-defaultPipeSize)
	}
}

// TestAnswerPipeSendsHeadAndBody: keep-alive answers of a hot file go out
// as one answer pipe (head and body) per second, each with the exact head
// the loop wrote (status, fields, Date) and the file's bytes; an answer
// with another head in the same second (Connection: close) goes head-then-
// body, its head intact, and the connection closes after it.
func TestAnswerPipeSendsHeadAndBody(t *testing.T) {
	body, f, p := pipedFile(t, 60_000)
	addr, s := startLoops(t, pipeHandler(t, f, p), &http.Server{}, 1)
	builds := answerBuilds.Load()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 20 {
		resp, got, err := ask(c, br, "GET", "/piped", "")
		if err != nil {
			t.Fatal(err)
		}
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || err != nil || time.Since(date) > time.Minute {
			t.Fatalf("answer %d: %d, length %d, Date %q", i, resp.StatusCode, resp.ContentLength, resp.Header.Get("Date"))
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("answer %d: %d bytes differ from the file's", i, len(got))
		}
	}
	if n := answerBuilds.Load() - builds; n < 1 || n > 3 {
		t.Fatalf("%d answer pipes built for 20 answers well within three seconds, want 1 to 3", n)
	}
	resp, got, err := ask(c, br, "GET", "/piped", "Connection: close\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Close || !bytes.Equal(got, body) {
		t.Fatalf("Connection: close answer: close=%v, %d bytes", resp.Close, len(got))
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatal("the connection stayed open after Connection: close")
	}
	waitFor(t, "21 answers counted as piped", func() bool { return s.Stats().Piped == 21 })
}

// TestAnswerPipesGoWithTheirFilePipe: once a FilePipe is closed (its
// release swapped out), the loops drop their answer pipes of it and the
// pipe budget is whole again.
func TestAnswerPipesGoWithTheirFilePipe(t *testing.T) {
	body, f, p := pipedFile(t, 60_000)
	before := PipeBytes()
	addr, _ := startLoops(t, pipeHandler(t, f, p), &http.Server{}, 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // keeps the loop waking to sweep
	if got := getKeep(t, c, bufio.NewReader(c), "GET", "/piped"); !bytes.Equal(got, body) {
		t.Fatal("piped answer differs")
	}
	waitFor(t, "an answer pipe held", func() bool { return PipeBytes() > before })
	p.Close()
	waitFor(t, "the answer pipe dropped", func() bool { return PipeBytes() == before-defaultPipeSize })
}
