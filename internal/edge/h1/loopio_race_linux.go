//go:build race

package h1

import "syscall"

// Under the race detector the event loop's socket I/O tells the detector
// what syscall.Write and syscall.Read tell it (through those very calls: a
// zero-length write before each send, reads through syscall.Read), so a
// test that reads an answer sees what the handler did before writing it.

func raceRelease(fd int) { _, _ = syscall.Write(fd, nil) }

func loopRead(fd int, b []byte) (int, syscall.Errno) {
	n, err := syscall.Read(fd, b)
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}
