//go:build !unix || aix

package backup

import "os"

// flock does nothing where flock(2) is missing: the caller must not run
// two operations on one repository at the same time.
func flock(*os.File, bool) error { return nil }

// readOnlyFS reports whether err says the file system is read-only; it
// cannot tell here.
func readOnlyFS(error) bool { return false }
