//go:build unix

package activation

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// Listeners returns the listening sockets systemd passed this process, by
// name, and unsets the variables so that the processes Phoenix starts
// (builds, hooks) do not take them for their own. It returns an empty map
// when the process was not socket-activated. Two sockets of one name, or a
// descriptor that is not a listening stream socket, are an error.
func Listeners() (map[string]net.Listener, error) {
	passed, err := Parse(os.Getenv, os.Getpid())
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	if err != nil {
		return nil, fmt.Errorf("systemd socket activation: %w", err)
	}
	out := make(map[string]net.Listener, len(passed))
	for _, p := range passed {
		syscall.CloseOnExec(p.FD)
		f := os.NewFile(uintptr(p.FD), p.Name)
		err := listening(p.FD)
		var ln net.Listener
		if err == nil {
			ln, err = net.FileListener(f) // a duplicate; f's own descriptor is closed below
		}
		f.Close()
		if err == nil && out[p.Name] != nil {
			ln.Close()
			err = fmt.Errorf("a second socket of that name (give each ListenStream= its own FileDescriptorName=)")
		}
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("systemd socket activation: descriptor %d (%s): %w", p.FD, p.Name, err)
		}
		out[p.Name] = ln
	}
	return out, nil
}

func closeAll(m map[string]net.Listener) {
	for _, ln := range m {
		ln.Close()
	}
}
