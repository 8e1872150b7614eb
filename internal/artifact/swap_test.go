package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadsStayInTheFolder: a build reads its files through the folder,
// so a file or a folder swapped for a link to elsewhere after the walk
// (a pipeline step running beside the build) is refused, not read.
func TestReadsStayInTheFolder(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	for path, body := range map[string]string{
		filepath.Join(dir, "sub", "a.txt"):  "public-a",
		filepath.Join(dir, "b.txt"):         "public-b",
		filepath.Join(outside, "a.txt"):     "secret-a", // the same sizes: the size check alone would not tell
		filepath.Join(outside, "state.txt"): "secret-b",
	} {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, root, err := walk(dir, &BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	os.RemoveAll(filepath.Join(dir, "sub"))
	os.Symlink(outside, filepath.Join(dir, "sub"))
	os.Remove(filepath.Join(dir, "b.txt"))
	os.Symlink(filepath.Join(outside, "state.txt"), filepath.Join(dir, "b.txt"))
	for _, e := range files {
		b, p, err := readFile(e)
		if err == nil {
			putBuf(p)
		}
		if strings.Contains(string(b), "secret") {
			t.Errorf("%s: read %q from outside the folder", e.rel, b)
		}
		if err == nil {
			t.Errorf("%s: read after it was swapped for a link out of the folder", e.rel)
		}
	}
}
