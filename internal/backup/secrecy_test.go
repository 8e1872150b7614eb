package backup

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Nothing in the repository reveals a file's content, a file's name or the
// passphrase, and errors do not carry the passphrase either.
func TestNothingLeaks(t *testing.T) {
	marker := []byte("MARKER-4f1c2e-the-secret-content")
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	writeFile(t, data, "keys/very-secret-file-name.key", bytes.Repeat(marker, 3), 0o600)
	writeFile(t, data, "tools/big.bin", bytes.Repeat(marker, memObjectLimit/len(marker)+1), 0o600)
	create(t, r, data, time.Now())
	for _, needle := range [][]byte{marker, testPass, []byte("very-secret-file-name")} {
		filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, needle) {
				t.Errorf("%s contains %q", p, needle)
			}
			return nil
		})
	}
	_, err := Open(context.Background(), repo, []byte("hunter2-wrong"))
	if !errors.Is(err, ErrWrongKey) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("wrong-key error %q", err)
	}
}
