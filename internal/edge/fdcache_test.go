package edge

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestOpenFilesLifecycle(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "A")
	open := func(b string) (*os.File, error) { return os.Open(filepath.Join(dir, b)) }
	var o openFiles
	o.use()
	now := time.Now()
	f1, warm, mine, err := o.get("a", now, open)
	if err != nil || mine || warm {
		t.Fatalf("first get: %v mine=%v warm=%v", err, mine, warm)
	}
	if f2, warm, _, _ := o.get("a", now.Add(time.Second), open); f2 != f1 || o.count() != 1 || !warm {
		t.Fatalf("second get did not reuse the open file, or it is not warm (%v)", warm)
	}
	if _, warm, _, _ := o.get("a", now.Add(time.Minute), open); warm {
		t.Fatal("a file unsent for a minute counts as warm")
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
	o.use()
	f3, _, mine, err := o.get("a", now, open)
	if err != nil || !mine {
		t.Fatalf("get after close: %v mine=%v, want a file of the caller's own", err, mine)
	}
	f3.Close()
	o.done()
	if _, _, _, err := o.get("missing", now, open); err == nil {
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
