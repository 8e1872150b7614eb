//go:build !linux

package h1

import "os"

func (c *conn) sendSection(f *os.File, _ *FilePipe, off, n int64, _ bool) (int64, error) {
	return c.copySection(f, off, n)
}
