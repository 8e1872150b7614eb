//go:build !linux

package local

import "github.com/phoenixvc/phoenix/internal/artifact/backend"

// syncTemps fsyncs every temporary file of a batch.
func syncTemps(_ string, pending map[backend.Digest]string) error { return fsyncFiles(pending) }

// syncDirs fsyncs every directory a batch renamed into.
func syncDirs(_ string, dirs map[string]bool) error { return fsyncDirs(dirs) }
