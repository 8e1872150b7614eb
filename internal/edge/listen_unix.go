//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package edge

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortControl sets SO_REUSEPORT on a listening socket before bind, so
// several serving processes can share one port (the kernel spreads new
// connections over them, as with nginx's workers).
func reusePortControl(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

const reusePortSupported = true
