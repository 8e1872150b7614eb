package activation

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// listening refuses a descriptor that is not a listening socket (a
// connected socket would make a listener whose Accept always fails).
func listening(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return err
	}
	if v == 0 {
		return fmt.Errorf("not a listening socket (ListenStream= in the .socket unit)")
	}
	return nil
}
