package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// folderWarnings returns the warnings about the rewrites of the config at
// path (cfg) to files its folder does not hold, when that folder is the
// site itself: not public/, whose files the build copies into its output
// beside the built ones, nor a source folder (one with a package.json),
// which the build writes the site out of.
func folderWarnings(path string, cfg *swa.Config) []string {
	dir := filepath.Dir(path)
	if filepath.Base(dir) == "public" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
		return nil
	}
	return missingFiles(path, cfg)
}

// missingFiles returns the warnings about the rewrites of the config at
// path (cfg) to files its folder does not hold.
func missingFiles(path string, cfg *swa.Config) []string {
	ps, err := edge.FolderWarnings(cfg, filepath.Dir(path))
	if err != nil {
		return []string{fmt.Sprintf("%s: cannot look for the files its rewrites name: %v", path, err)}
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// warnMissingFiles prints on w a warning for each rewrite of dir's
// staticwebapp.config.json to a file dir does not hold (phoenix deploy
// DIR, whose folder is the site whatever it holds). A config with errors
// is left to the server, which refuses it.
func warnMissingFiles(w io.Writer, dir string) {
	path := filepath.Join(dir, swa.FileName)
	cfg, err := swa.Load(path)
	if err != nil {
		return
	}
	for _, s := range missingFiles(path, cfg) {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}
