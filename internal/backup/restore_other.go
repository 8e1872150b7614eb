//go:build !unix

package backup

import "io/fs"

// mountPoint reports whether dir is a mount point; it cannot tell here.
func mountPoint(string, fs.FileInfo) bool { return false }

// fsFree cannot tell the free space here: a restore is not checked.
func fsFree(string) (free, block int64, ok bool) { return 0, 0, false }

// takeOwner leaves owners as they are here: there is no chown.
func takeOwner(string, fs.FileInfo) error { return nil }
