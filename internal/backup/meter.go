package backup

import (
	"io"
	"sync"
)

// meter reports bytes done against a total to an optional callback.
type meter struct {
	fn          func(done, total int64)
	mu          sync.Mutex // workers add at once
	done, total int64
}

// add counts n bytes as done.
func (p *meter) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.fn != nil {
		p.fn(p.done, max(p.total, p.done))
	}
}

// reader counts the bytes read through it as done.
func (p *meter) reader(r io.Reader) io.Reader {
	if p.fn == nil {
		return r
	}
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *meter
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.add(int64(n))
	}
	return n, err
}
