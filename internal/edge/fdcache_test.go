package edge

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

func TestOpenFilesLifecycle(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "A")
	open := func(b string) (*os.File, error) { return os.Open(filepath.Join(dir, b)) }
	var o openFiles
	o.use()
	now := time.Now()
	f1, p, warm, mine, err := o.get("a", 1, now, open)
	if err != nil || mine || warm || p != nil {
		t.Fatalf("first get: %v mine=%v warm=%v pipe=%v", err, mine, warm, p != nil)
	}
	before := h1.PipeBytes()
	for i := 1; i < pipeAfter; i++ { // warm, not yet hot
		f2, p, warm, _, _ := o.get("a", 1, now.Add(time.Second), open)
		if f2 != f1 || o.count() != 1 || !warm {
			t.Fatalf("get %d did not reuse the open file, or it is not warm (%v)", i+1, warm)
		}
		if p != nil {
			t.Fatalf("a pipe after %d warm sends, want one after %d", i, pipeAfter)
		}
	}
	_, p, _, _, _ = o.get("a", 1, now.Add(time.Second), open)
	if piped := runtime.GOOS == "linux"; (p != nil) != piped || (h1.PipeBytes() > before) != piped {
		t.Fatalf("warm get %d: pipe %v (%d bytes held, %d before), want one on Linux only", pipeAfter, p != nil, h1.PipeBytes(), before)
	}
	_, p2, warm, _, _ := o.get("a", 1, now.Add(time.Minute), open)
	if warm {
		t.Fatal("a file unsent for a minute counts as warm")
	}
	if p2 != p {
		t.Fatal("the file's pipe was not kept")
	}
	o.retire() // a request is still running: the file stays open
	if _, err := f1.Stat(); err != nil {
		t.Fatalf("file closed under a running request: %v", err)
	}
	o.use() // a request that loaded the release just before the swap
	o.done()
	o.done()
	if _, err := f1.Stat(); err == nil || o.count() != 0 {
		t.Fatal("files still open after the last request of a retired release")
	}
	if h1.PipeBytes() != before {
		t.Fatalf("%d bytes of pipes held after the release closed, want %d", h1.PipeBytes(), before)
	}
	o.use()
	f3, p, _, mine, err := o.get("a", 1, now, open)
	if err != nil || !mine || p != nil {
		t.Fatalf("get after close: %v mine=%v pipe=%v, want a file of the caller's own", err, mine, p != nil)
	}
	f3.Close()
	o.done()
	if _, _, _, _, err := o.get("missing", 1, now, open); err == nil {
		t.Fatal("missing blob opened")
	}
}

// TestSwapClosesFiles: sendfile bodies keep their blob open while the
// release serves; swapping the release out closes them.
func TestSwapClosesFiles(t *testing.T) {
	big := map[string]string{"big.bin": string(make([]byte, 40000))}
	a, b := mustSite(t, big), mustSite(t, big)
	e := newTestEdge(t, a, Options{})
	if r := e.get(t, "/big.bin", nil); r.status != 200 || len(r.body) != 40000 {
		t.Fatalf("GET: %d, %d bytes", r.status, len(r.body))
	}
	rel := e.hosts.Env("prod").cur.Load()
	if rel.fds.count() != 1 {
		t.Fatalf("%d open files, want the blob kept open", rel.fds.count())
	}
	e.hosts.SetSite("prod", b)
	// The client may have read the whole answer a moment before the
	// handler (on the serving loop) returned and released the files.
	for deadline := time.Now().Add(5 * time.Second); rel.fds.count() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("swapped-out release still holds its files")
		}
		runtime.Gosched()
	}
	if r := e.get(t, "/big.bin", map[string]string{"Range": "bytes=39990-"}); r.status != 206 || len(r.body) != 10 {
		t.Fatalf("range after swap: %d, %d bytes", r.status, len(r.body))
	}
}

// TestHotFileAnswersFromAPipe: a large file sent often while warm goes out
// from its pipe (h1.FilePipe: tee and splice, Linux) with the same bytes,
// whole and as a Range; swapping the release out gives the pipe back.
func TestHotFileAnswersFromAPipe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("file pipes are Linux's")
	}
	body := make([]byte, 50_000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	site := mustSite(t, map[string]string{"hot.bin": string(body)})
	e := newTestEdge(t, site, Options{})
	held := h1.PipeBytes()
	for i := range pipeAfter + 2 { // the first is not warm; from the pipeAfter-th warm one, piped
		if r := e.get(t, "/hot.bin", nil); r.status != 200 || r.body != string(body) {
			t.Fatalf("GET %d: %d, %d bytes differ from the file's", i, r.status, len(r.body))
		}
	}
	if r := e.get(t, "/hot.bin", map[string]string{"Range": "bytes=0-"}); r.status != 206 || r.body != string(body) {
		t.Fatalf("whole range: %d, %d bytes", r.status, len(r.body))
	}
	if r := e.get(t, "/hot.bin", map[string]string{"Range": "bytes=49990-"}); r.status != 206 || r.body != string(body[49990:]) {
		t.Fatalf("tail range: %d, %q", r.status, r.body)
	}
	piped := func() uint64 {
		var n uint64
		for _, c := range e.h.ConnStats() {
			n += c.Piped
		}
		return n
	}
	// The client may have the last answer a moment before the loop counts it.
	for deadline := time.Now().Add(5 * time.Second); piped() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d answers went from the pipe, want the two warm GETs and the whole range", piped())
		}
		runtime.Gosched()
	}
	if h1.PipeBytes() <= held {
		t.Fatal("no pipe held for the hot file")
	}
	e.hosts.SetSite("prod", mustSite(t, map[string]string{"other": "x"}))
	for deadline := time.Now().Add(5 * time.Second); h1.PipeBytes() != held; {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of pipes held after the release was swapped out, want %d", h1.PipeBytes(), held)
		}
		runtime.Gosched()
	}
}
