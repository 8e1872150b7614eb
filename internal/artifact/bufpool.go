package artifact

// Buffers for file contents and compressed output are reused across files:
// a 1 GiB build otherwise allocates (and the GC zeroes and scans) well over
// 1 GiB of short-lived memory. A channel, unlike sync.Pool, is not emptied
// by every GC cycle, which large-buffer churn triggers often.
const (
	maxPooledBuf = 4 << 20
	pooledBufs   = 64
)

var bufPool = make(chan *[]byte, pooledBufs)

// getBuf returns a zero-length buffer with capacity at least n.
func getBuf(n int) *[]byte {
	if n <= maxPooledBuf {
		for range 2 {
			select {
			case p := <-bufPool:
				if cap(*p) >= n {
					*p = (*p)[:0]
					return p
				}
				putBuf(p)
			default:
			}
		}
		n = max(n, 256<<10)
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuf returns a buffer; it is dropped if the pool is full or it is huge.
func putBuf(p *[]byte) {
	if p == nil || cap(*p) > maxPooledBuf {
		return
	}
	select {
	case bufPool <- p:
	default:
	}
}
