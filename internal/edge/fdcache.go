package edge

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

// sendfileMin is the smallest body the lean loop sends with sendfile from
// a cached open file rather than copying it from memory.
const sendfileMin = 16 << 10

// openFilesMax bounds the files one release keeps open; past it, files are
// opened per request.
const openFilesMax = 2048

// warmFor is how long after a file was last sent its pages are taken to be
// in the page cache still.
const warmFor = 30 * time.Second

// openFile is one kept-open blob, when it was last sent (unix nanos) and,
// once it has been sent pipeAfter times while warm, its pages in a pipe
// (h1.FilePipe: the lean loop answers from it without sendfile's
// page-cache lookup).
type openFile struct {
	f         *os.File
	last      atomic.Int64
	warmSends atomic.Int32 // sends while warm, until pipeAfter: then a pipe is tried once
	pipe      atomic.Pointer[h1.FilePipe]
}

// openFiles keeps a release's blob files open while the release serves, so
// large bodies go out with sendfile without an open/close per request.
// Requests hold the release (use/done); once it is retired (swapped out)
// new requests stop using the cache, and the files close when the last
// request that could use them is done.
type openFiles struct {
	refs    atomic.Int64
	retired atomic.Bool
	once    sync.Once
	mu      sync.Mutex
	closed  bool
	files   map[string]*openFile
}

// use registers a request that may call get.
func (o *openFiles) use() { o.refs.Add(1) }

// done ends a request registered with use.
func (o *openFiles) done() {
	if o.refs.Add(-1) == 0 && o.retired.Load() {
		o.closeAll()
	}
}

// retire stops the cache; the files close now or when the last request
// using them is done.
func (o *openFiles) retire() {
	o.retired.Store(true)
	if o.refs.Load() == 0 {
		o.closeAll()
	}
}

func (o *openFiles) closeAll() {
	o.once.Do(func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, of := range o.files {
			of.f.Close()
			if p := of.pipe.Load(); p != nil {
				p.Close()
			}
		}
		o.files, o.closed = nil, true
	})
}

// get returns the open file of blob (size bytes long), opening it with
// open on first use, whether it was sent within warmFor before now and,
// for a file sent often while warm (pipeAfter), a FilePipe of it (nil if none could be
// made: see h1.NewFilePipe). Only a request between use and done may call
// it, and it must not use the file or the pipe after done. After the cache
// closed (a request that started just before its release was swapped
// out), or when it is full, the file is the caller's to close (mine=true)
// and there is no pipe.
func (o *openFiles) get(blob string, size int64, now time.Time, open func(string) (*os.File, error)) (f *os.File, p *h1.FilePipe, warm, mine bool, err error) {
	o.mu.Lock()
	of := o.files[blob]
	o.mu.Unlock()
	if of != nil {
		t := now.UnixNano()
		warm = t-of.last.Swap(t) < int64(warmFor)
		return of.f, of.pipeOf(size, warm), warm, false, nil
	}
	f, mine, err = o.add(blob, now, open)
	return f, nil, false, mine, err
}

// pipeAfter is how many warm sends make a file hot enough for a pipe: a
// crawler fetching every file once or twice does not spend the pipes'
// budget (h1.NewFilePipe) on files nobody asks for again.
const pipeAfter = 8

// pipeOf is the file's pipe, made on its pipeAfter-th warm send.
func (of *openFile) pipeOf(size int64, warm bool) *h1.FilePipe {
	if p := of.pipe.Load(); p != nil || !warm || of.warmSends.Load() >= pipeAfter {
		return p
	}
	if of.warmSends.Add(1) != pipeAfter { // exactly one send reaches it
		return nil
	}
	p, err := h1.NewFilePipe(of.f, size)
	if err != nil {
		return nil // too large, over the budget, or not Linux: sendfile
	}
	of.pipe.Store(p)
	return p
}

// add opens blob and keeps it, as get does on first use (not warm, no
// pipe).
func (o *openFiles) add(blob string, now time.Time, open func(string) (*os.File, error)) (f *os.File, mine bool, err error) {
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if f, err = open(blob); err != nil || closed {
		return f, err == nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch old := o.files[blob]; {
	case o.closed || len(o.files) >= openFilesMax:
		return f, true, nil
	case old != nil:
		f.Close()
		return old.f, false, nil
	}
	if o.files == nil {
		o.files = map[string]*openFile{}
	}
	of := &openFile{f: f}
	of.last.Store(now.UnixNano())
	o.files[blob] = of
	return f, false, nil
}

// count reports the open files (for tests).
func (o *openFiles) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.files)
}
