package artifact

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestBuildRefusesAFolderWithNoFiles: a folder with no file to take (the
// project's dist/ before its build, the wrong path) is refused, naming
// the folder and what to deploy instead, rather than built into a release
// that answers 404 everywhere; nothing is stored.
func TestBuildRefusesAFolderWithNoFiles(t *testing.T) {
	empty := t.TempDir()
	onlyExcluded := t.TempDir()
	os.MkdirAll(filepath.Join(onlyExcluded, "assets"), 0o755)
	os.WriteFile(filepath.Join(onlyExcluded, "phoenix.yaml"), []byte("project: x\n"), 0o644)
	for _, c := range []struct {
		dir, want string
		exclude   []string
	}{
		{empty, "the folder is empty", nil},
		{onlyExcluded, "the folder holds only empty folders or files left out (/phoenix.yaml)", []string{"/phoenix.yaml"}},
	} {
		blobs, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, err = Build(context.Background(), c.dir, blobs, BuildOptions{Exclude: c.exclude})
		if usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "build "+c.dir+": no files to deploy: "+c.want) {
			t.Fatalf("build %s: %v", c.dir, err)
		}
		if h := usererr.HintOf(err); !strings.Contains(h, "dist/") {
			t.Errorf("hint %q", h)
		}
	}
}
