//go:build !unix

package testkit

import "syscall"

// detached is nil off Unix, which has no process groups to leave; it keeps
// the module building there (`GOOS=windows go build ./...`).
func detached() *syscall.SysProcAttr { return nil }
