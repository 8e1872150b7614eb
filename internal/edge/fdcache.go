package edge

import (
	"os"
	"sync"
	"sync/atomic"
)

// sendfileMin is the smallest body the lean loop sends with sendfile from
// a cached open file rather than copying it from memory.
const sendfileMin = 16 << 10

// openFilesMax bounds the files one release keeps open; past it, files are
// opened per request.
const openFilesMax = 2048

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
	files   map[string]*os.File
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
		for _, f := range o.files {
			f.Close()
		}
		o.files, o.closed = nil, true
	})
}

// get returns the open file of blob, opening it with open on first use.
// Only a request between use and done may call it, and it must not use the
// file after done. After the cache closed (a request that started just
// before its release was swapped out), the file is the caller's to close
// (mine=true).
func (o *openFiles) get(blob string, open func(string) (*os.File, error)) (f *os.File, mine bool, err error) {
	o.mu.Lock()
	f, closed := o.files[blob], o.closed
	o.mu.Unlock()
	if f != nil {
		return f, false, nil
	}
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
		return old, false, nil
	}
	if o.files == nil {
		o.files = map[string]*os.File{}
	}
	o.files[blob] = f
	return f, false, nil
}

// count reports the open files (for tests).
func (o *openFiles) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.files)
}
