package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncfs flushes the filesystem holding dir.
func syncfs(dir string) {
	if f, err := os.Open(dir); err == nil {
		unix.Syncfs(int(f.Fd()))
		f.Close()
	}
}
