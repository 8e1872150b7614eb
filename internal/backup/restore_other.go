//go:build !unix

package backup

import "io/fs"

// mountPoint reports whether dir is a mount point; it cannot tell here.
func mountPoint(string, fs.FileInfo) bool { return false }
