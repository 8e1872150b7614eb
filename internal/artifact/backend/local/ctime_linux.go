package local

import (
	"io/fs"
	"syscall"
	"time"
)

// statusChanged is the file's ctime: the last write, link, rename or
// chmod.
func statusChanged(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return fi.ModTime()
}
