package edge

import (
	"fmt"
	"os"
	"strings"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// FolderFiles is the swa.FileSystem of a folder's files as NewDirSite
// serves them (regular files, not symlinks, never the config file),
// looked up on disk instead of indexed: for checking a config against a
// folder (phoenix validate, deploy) without hashing every file.
type FolderFiles struct{ root *os.Root }

var _ swa.FileSystem = (*FolderFiles)(nil)

// OpenFolderFiles opens dir; Close it when done.
func OpenFolderFiles(dir string) (*FolderFiles, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("edge: open site folder: %w", err)
	}
	return &FolderFiles{root: root}, nil
}

// Exists implements swa.FileSystem. A path leaving the folder ("/../x")
// exists no more than it does for the edge.
func (f *FolderFiles) Exists(p string) bool {
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		return false
	}
	fi, err := f.root.Lstat(rel)
	return err == nil && servesFile(rel, fi.Mode())
}

// Close releases the folder handle.
func (f *FolderFiles) Close() error { return f.root.Close() }

// FolderWarnings returns the warnings of dir's staticwebapp.config.json
// (cfg, loaded from it) that need the folder's files: its rewrites to a
// file dir does not hold (swa.Config.MissingFiles).
func FolderWarnings(cfg *swa.Config, dir string) ([]swa.Problem, error) {
	ff, err := OpenFolderFiles(dir)
	if err != nil {
		return nil, err
	}
	defer ff.Close()
	return cfg.MissingFiles(ff), nil
}
