package artifact

import "sync"

// Buffers for file contents and compressed output are reused across files:
// a 1 GiB build otherwise allocates (and the GC clears and scans) well over
// 1 GiB of short-lived memory.
const maxPooledBuf = 4 << 20

var bufPool sync.Pool // of *[]byte

// getBuf returns a zero-length buffer with capacity at least n.
func getBuf(n int) *[]byte {
	if n <= maxPooledBuf {
		if p, ok := bufPool.Get().(*[]byte); ok {
			if cap(*p) >= n {
				*p = (*p)[:0]
				return p
			}
			bufPool.Put(p)
		}
		n = max(n, 64<<10)
	}
	b := make([]byte, 0, n)
	return &b
}

func putBuf(p *[]byte) {
	if p != nil && cap(*p) <= maxPooledBuf {
		bufPool.Put(p)
	}
}
