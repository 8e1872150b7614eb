//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package edge

import "syscall"

func reusePortControl(_, _ string, _ syscall.RawConn) error { return nil }

const reusePortSupported = false
