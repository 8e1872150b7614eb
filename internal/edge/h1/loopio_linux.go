//go:build !race

package h1

import (
	"syscall"
	"unsafe"
)

func raceRelease(int) {}

// loopRead is read(2) on a non-blocking socket: a raw call, it cannot block.
func loopRead(fd int, b []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}
