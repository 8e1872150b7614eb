//go:build !linux

package local

import (
	"io/fs"
	"time"
)

// statusChanged falls back to the modification time where Phoenix does not
// read the ctime: a blob is then young only while it is written, not when a
// later Put or Link touches it.
func statusChanged(fi fs.FileInfo) time.Time { return fi.ModTime() }
