package testkit

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// ListTree names every entry under dir with its size, mode and time: two
// listings differ when anything there was written, added or removed.
func ListTree(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %v %v\n", p, fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
