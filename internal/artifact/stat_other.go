//go:build !linux

package artifact

import "io/fs"

// sysStat has nothing to add where syscall.Stat_t is not available; the
// size and mtime still detect ordinary edits.
func sysStat(fs.FileInfo, *statKey) {}
