package edge

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
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

// openFile is one kept-open blob and when it was last sent (unix nanos).
type openFile struct {
	f    *os.File
	last atomic.Int64
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
		}
		o.files, o.closed = nil, true
	})
}

// get returns the open file of blob, opening it with open on first use,
// and whether it was sent within warmFor before now. Only a request between
// use and done may call it, and it must not use the file after done. After
// the cache closed (a request that started just before its release was
// swapped out), or when it is full, the file is the caller's to close
// (mine=true).
func (o *openFiles) get(blob string, now time.Time, open func(string) (*os.File, error)) (f *os.File, warm, mine bool, err error) {
	o.mu.Lock()
	of, closed := o.files[blob], o.closed
	o.mu.Unlock()
	if of != nil {
		t := now.UnixNano()
		return of.f, t-of.last.Swap(t) < int64(warmFor), false, nil
	}
	if f, err = open(blob); err != nil || closed {
		return f, false, err == nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch old := o.files[blob]; {
	case o.closed || len(o.files) >= openFilesMax:
		return f, false, true, nil
	case old != nil:
		f.Close()
		return old.f, false, false, nil
	}
	if o.files == nil {
		o.files = map[string]*openFile{}
	}
	of = &openFile{f: f}
	of.last.Store(now.UnixNano())
	o.files[blob] = of
	return f, false, false, nil
}

// count reports the open files (for tests).
func (o *openFiles) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.files)
}
