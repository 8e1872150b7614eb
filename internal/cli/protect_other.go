//go:build !linux

package cli

// protectProcess has no portable equivalent of Linux's PR_SET_DUMPABLE.
func protectProcess() error { return nil }
