//go:build unix

package testkit

import "syscall"

// detached puts a child in a process group of its own, so a Ctrl-C to the
// test does not reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
