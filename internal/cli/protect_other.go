//go:build !linux

package cli

// protectProcess has no portable equivalent of Linux's PR_SET_DUMPABLE.
func protectProcess() error { return nil }

// scrubEnviron has nothing to do where no /proc/<pid>/environ shows a
// process's environment to others.
func scrubEnviron(func(name string) bool) error { return nil }

// scrubArgs has nothing to do where no /proc/<pid>/cmdline shows a
// process's command line to others.
func scrubArgs([]string) error { return nil }
