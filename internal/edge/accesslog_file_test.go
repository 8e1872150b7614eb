package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordPath hands the log one answered GET of p.
func recordPath(l *AccessLog, p string) {
	r := httptest.NewRequest(http.MethodGet, p, nil)
	l.record(r, "prod", 200, 10, time.Now(), time.Millisecond, netip.MustParseAddr("192.0.2.7"), false)
}

// TestAccessLogRotation: past MaxSize the file moves to PATH.1, older
// ones shift, the oldest beyond Keep is removed; no file exceeds MaxSize
// and the kept lines are the newest, in order.
func TestAccessLogRotation(t *testing.T) {
	const maxSize, keep, n = 2000, 2, 100
	l, path := openTestLog(t, AccessLogOptions{MaxSize: maxSize, Keep: keep, Buffer: n})
	for i := range n {
		recordPath(l, "/r/"+strconv.Itoa(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var seq []int
	for _, name := range []string{path + ".2", path + ".1", path} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize || (name != path && st.Size() < maxSize/2) || st.Mode().Perm() != 0o640 {
			t.Errorf("%s: %d bytes, mode %v; want at most %d, 0640", name, st.Size(), st.Mode().Perm(), maxSize)
		}
		for _, ln := range readAccessLines(t, name) {
			i, err := strconv.Atoi(strings.TrimPrefix(ln.Path, "/r/"))
			if err != nil {
				t.Fatalf("path %q", ln.Path)
			}
			seq = append(seq, i)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 kept beyond keep=%d (%v)", path, keep, err)
	}
	if len(seq) == 0 || len(seq) == n || seq[len(seq)-1] != n-1 {
		t.Fatalf("kept lines %v: want the newest, some rotated away", seq)
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] != seq[i-1]+1 {
			t.Fatalf("kept lines out of order or missing: %v", seq)
		}
	}
}

// TestAccessLogReopen: after the file is moved away (logrotate), Reopen
// (what SIGHUP calls) writes the earlier lines to the moved file and the
// later ones to a new file at PATH.
func TestAccessLogReopen(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{FlushEvery: time.Hour})
	recordPath(l, "/before")
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	recordPath(l, "/after")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	old, cur := readAccessLines(t, path+".old"), readAccessLines(t, path)
	if len(old) != 1 || old[0].Path != "/before" || len(cur) != 1 || cur[0].Path != "/after" {
		t.Fatalf("old %+v, new %+v", old, cur)
	}
}

// TestOpenAccessLogErrors: a missing directory or a directory as the path
// is refused at open.
func TestOpenAccessLogErrors(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir + "/no/such/dir/access.log", dir, ""} {
		if l, err := OpenAccessLog(p, AccessLogOptions{}); err == nil {
			l.Close()
			t.Errorf("OpenAccessLog(%q) succeeded", p)
		}
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	entered chan struct{} // closed at the first Write
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	data    strings.Builder
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.data.Write(p)
}

// TestAccessLogDropsWhenBlocked: with the writer stuck, the edge keeps
// answering; records past the buffer are dropped and counted at /metrics,
// and the rest are written once the writer moves again.
func TestAccessLogDropsWhenBlocked(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	l := NewAccessLog(bw, AccessLogOptions{Buffer: 4, FlushEvery: time.Millisecond})
	e := newTestEdge(t, mustSite(t, basicSite), Options{AccessLog: l})
	e.get(t, "/", nil)
	select {
	case <-bw.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer never wrote")
	}
	const n = 20
	for range n {
		if r := e.get(t, "/", nil); r.status != 200 {
			t.Fatalf("status %d with the writer blocked", r.status)
		}
	}
	dropped := l.Dropped()
	if dropped < n-4 {
		t.Fatalf("dropped %d, want at least %d", dropped, n-4)
	}
	m := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost})
	if !strings.Contains(m.body, fmt.Sprintf("phoenix_edge_access_log_dropped_total %d\n", dropped)) {
		t.Fatalf("metrics lack the drops (%d):\n%s", dropped, m.body)
	}
	close(bw.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	bw.mu.Lock()
	lines := strings.Count(bw.data.String(), "\n")
	bw.mu.Unlock()
	if want := int(uint64(n+2) - l.Dropped()); lines != want {
		t.Fatalf("%d lines written, want %d (of %d requests, %d dropped)", lines, want, n+2, l.Dropped())
	}
}

// TestAccessLogNoAllocs: the access log adds no allocation to the lean
// loop's request path.
func TestAccessLogNoAllocs(t *testing.T) {
	files := map[string]string{"index.html": "<!doctype html><title>app</title>"}
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/?q=1", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.RequestURI = "/?q=1"
	r.Header["User-Agent"] = []string{"Mozilla/5.0 (X11; Linux x86_64)"}
	r.Header["Referer"] = []string{"https://example.com/from?x=1"}
	allocs := func(l *AccessLog) float64 {
		h := benchHandlerOpts(t, files, Options{AccessLog: l})
		w := &benchWriter{h: http.Header{}, t: time.Now()}
		return testing.AllocsPerRun(1000, func() {
			clear(w.h)
			if !h.ServeFast(w, r) || w.status != 200 {
				t.Fatalf("status %d", w.status)
			}
		})
	}
	l := NewAccessLog(io.Discard, AccessLogOptions{})
	defer l.Close()
	without, with := allocs(nil), allocs(l)
	if with > without {
		t.Fatalf("%v allocations per request with the access log, %v without", with, without)
	}
}

// countingWriter counts the lines written to it.
type countingWriter struct {
	mu    sync.Mutex
	lines int
	bad   string // the first line that is not one of ours
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ln := range strings.SplitAfter(string(p), "\n") {
		if ln == "" {
			continue
		}
		if !strings.HasPrefix(ln, `{"time":"`) || !strings.HasSuffix(ln, "}\n") || !strings.Contains(ln, `"path":"/g/`) {
			if w.bad == "" {
				w.bad = ln
			}
		}
		w.lines++
	}
	return len(p), nil
}

// TestAccessLogConcurrentProducers: records from many goroutines at once
// through a small ring are each written whole or counted as dropped.
func TestAccessLogConcurrentProducers(t *testing.T) {
	cw := &countingWriter{}
	l := NewAccessLog(cw, AccessLogOptions{Buffer: 64, FlushEvery: time.Millisecond})
	const producers, each = 8, 2000
	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := range each {
				recordPath(l, fmt.Sprintf("/g/%d/%d", g, i))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if cw.bad != "" {
		t.Fatalf("a torn or foreign line: %q", cw.bad)
	}
	if got := uint64(cw.lines) + l.Dropped(); got != producers*each {
		t.Fatalf("%d written + %d dropped = %d, want %d", cw.lines, l.Dropped(), got, producers*each)
	}
}

// TestAccessLogWritesWholeLines: every write reaching the file or stdout
// carries whole lines, also when the buffer fills in the middle of one.
func TestAccessLogWritesWholeLines(t *testing.T) {
	cw := &countingWriter{}
	s := &plainSink{w: newBuffered(cw)}
	const n = 2000 // about 10 buffers' worth
	for i := range n {
		line := fmt.Sprintf(`{"time":"t","path":"/g/%d%s"}`+"\n", i, strings.Repeat("x", i%500))
		if err := s.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if cw.bad != "" {
		t.Fatalf("a line split across writes: %q", cw.bad)
	}
	if cw.lines != n {
		t.Fatalf("%d lines, want %d", cw.lines, n)
	}
}
