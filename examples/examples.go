// Package examples embeds the example projects that `phoenix demo` releases,
// so the quickstart works from any folder with nothing but the binary.
package examples

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed site/phoenix.yaml site/package.json site/package-lock.json site/build.mjs site/staticwebapp.config.json site/src
var site embed.FS

// Site is the example single-page app: client-side routes, fingerprinted
// assets under /assets/, a staticwebapp.config.json with a navigation
// fallback, and a build that needs only Node.js.
func Site() fs.FS {
	sub, err := fs.Sub(site, "site")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}

// CopyTo writes the files of fsys under dir, creating folders as needed.
func CopyTo(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
