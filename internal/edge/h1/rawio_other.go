//go:build !linux

package h1

// rawIO is unused off Linux: the loop uses net.Conn's own calls.
type rawIO struct{}

func (c *conn) initRaw() {}

func (c *conn) read(b []byte) (int, error) { return c.nc.Read(b) }

func (c *conn) write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

func (c *conn) write2(a, b []byte) error {
	c.iov = append(c.iov[:0], a, b)
	_, err := c.iov.WriteTo(c.nc)
	return err
}
