//go:build linux

// Command gobare is sendfile1.c in Go: one event loop (a goroutine locked
// to its thread, epoll, raw read/send/sendfile) that answers every request
// head with one fixed file. It is the edge's event loop with nothing of the
// edge in it (no parser, routing, headers or telemetry), so next to the
// edge it shows what the Go runtime costs and what the edge's own work
// costs per request (bench/edge/run.sh, STEPS=ref). Not part of Phoenix.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	port := flag.Int("port", 18093, "loopback port")
	file := flag.String("file", "", "the file every request gets")
	flag.Parse()
	f, err := os.Open(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobare:", err)
		os.Exit(1)
	}
	st, _ := f.Stat()
	lfd, err := listen(*port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobare:", err)
		os.Exit(1)
	}
	head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n"+
		"Cache-Control: public, max-age=31536000, immutable\r\nContent-Encoding: gzip\r\n"+
		"Content-Length: %d\r\nContent-Type: text/javascript; charset=utf-8\r\n"+
		"Etag: \"0123456789abcdef0123456789abcdef\"\r\nVary: Accept-Encoding\r\n\r\n", st.Size())
	loop(lfd, int(f.Fd()), st.Size(), head)
}

func listen(port int) (int, error) {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return -1, err
	}
	return lfd, unix.Listen(lfd, 4096)
}

func loop(lfd, ffd int, size int64, head []byte) {
	runtime.LockOSThread()
	ep, _ := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	_ = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, lfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(lfd)})
	evs := make([]unix.EpollEvent, 256)
	buf := make([]byte, 8192)
	for {
		n, err := unix.EpollWait(ep, evs, -1)
		if err != nil {
			continue
		}
		for _, ev := range evs[:n] {
			fd := int(ev.Fd)
			if fd == lfd {
				if c, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC); err == nil {
					_ = unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
					_ = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, c, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c)})
				}
				continue
			}
			m, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			if e != 0 || m == 0 {
				if e == 0 {
					unix.Close(fd)
				}
				continue
			}
			for req := buf[:m]; ; {
				end := bytes.Index(req, []byte("\r\n\r\n"))
				if end < 0 {
					break
				}
				syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&head[0])), uintptr(len(head)), syscall.MSG_MORE, 0, 0)
				for off := int64(0); off < size; {
					k, _, e := syscall.RawSyscall6(syscall.SYS_SENDFILE, uintptr(fd), uintptr(ffd), uintptr(unsafe.Pointer(&off)), uintptr(size-off), 0, 0)
					if e != 0 || k == 0 {
						break
					}
				}
				req = req[end+4:]
			}
		}
	}
}
