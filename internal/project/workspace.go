package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxWalkDepth bounds how deep workspace globs are followed.
const maxWalkDepth = 6

// workspaces returns the workspace package directories of root and where
// they are declared ("" when root is not a workspace).
func workspaces(root string, rootPkg *packageJSON) ([]string, string, error) {
	globs, source, err := workspaceGlobs(root, rootPkg)
	if err != nil || source == "" {
		return nil, source, err
	}
	var include, exclude []string
	for _, g := range globs {
		g = strings.TrimPrefix(path.Clean(strings.TrimPrefix(g, "./")), "./")
		if neg, ok := strings.CutPrefix(g, "!"); ok {
			exclude = append(exclude, strings.TrimPrefix(neg, "./"))
		} else {
			include = append(include, g)
		}
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		rel := relTo(root, p)
		if rel != "." && skipDir(e.Name(), rel) {
			return filepath.SkipDir
		}
		if rel != "." && matchAny(include, rel) && !matchAny(exclude, rel) {
			if _, err := os.Stat(filepath.Join(p, "package.json")); err == nil {
				out = append(out, rel)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, source, err
}

func skipDir(name, rel string) bool {
	return name == "node_modules" || strings.HasPrefix(name, ".") || strings.Count(rel, "/") >= maxWalkDepth
}

// workspaceGlobs reads pnpm-workspace.yaml packages or package.json workspaces.
func workspaceGlobs(root string, rootPkg *packageJSON) ([]string, string, error) {
	data, err := os.ReadFile(filepath.Join(root, "pnpm-workspace.yaml"))
	if err == nil {
		var ws struct {
			Packages []string `yaml:"packages"`
		}
		if err := yaml.Unmarshal(data, &ws); err != nil {
			return nil, "", fmt.Errorf("%s: %w", filepath.Join(root, "pnpm-workspace.yaml"), err)
		}
		return ws.Packages, "pnpm-workspace.yaml", nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("read pnpm-workspace.yaml: %w", err)
	}
	if rootPkg == nil || len(rootPkg.Workspaces) == 0 {
		return nil, "", nil
	}
	var list []string
	if json.Unmarshal(rootPkg.Workspaces, &list) != nil {
		var obj struct {
			Packages []string `json:"packages"`
		}
		if err := json.Unmarshal(rootPkg.Workspaces, &obj); err != nil {
			return nil, "", fmt.Errorf("package.json workspaces: want a list of globs: %w", err)
		}
		list = obj.Packages
	}
	if len(list) == 0 {
		return nil, "", nil
	}
	return list, "package.json workspaces", nil
}

func matchAny(globs []string, rel string) bool {
	for _, g := range globs {
		if matchGlob(strings.Split(g, "/"), strings.Split(rel, "/")) {
			return true
		}
	}
	return false
}

// matchGlob matches path segments against glob segments, where "**"
// matches any number of segments.
func matchGlob(glob, segs []string) bool {
	if len(glob) == 0 {
		return len(segs) == 0
	}
	if glob[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchGlob(glob[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(glob[0], segs[0])
	return err == nil && ok && matchGlob(glob[1:], segs[1:])
}

// buildable returns the workspace packages that have a build script, apps
// (with a known framework) first.
func buildable(root string, dirs []string) []string {
	var apps, libs []string
	for _, dir := range dirs {
		pkg, err := readPackageJSON(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil || pkg == nil {
			continue
		}
		if !pkg.hasBuild() {
			continue
		}
		if looksLikeApp(filepath.Join(root, filepath.FromSlash(dir)), pkg) {
			apps = append(apps, dir)
		} else {
			libs = append(libs, dir)
		}
	}
	return append(apps, libs...)
}

// looksLikeApp reports whether a package is a site rather than a library:
// it has an index.html, or depends on an app framework.
func looksLikeApp(dir string, pkg *packageJSON) bool {
	for _, f := range []string{"index.html", "public/index.html", "src/index.html"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
			return true
		}
	}
	for _, dep := range []string{"next", "react-scripts", "@sveltejs/kit", "astro", "@vue/cli-service"} {
		if pkg.hasDep(dep) {
			return true
		}
	}
	return false
}
