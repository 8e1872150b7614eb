package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/phoenixvc/phoenix"

// packages maps each package dir (relative to the repo root) to its non-test Go files.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && p != root)) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			pkgs[filepath.ToSlash(rel)] = append(pkgs[filepath.ToSlash(rel)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for dir, files := range packages(t) {
		if strings.HasPrefix(dir, "bench") {
			continue // benchmark programs live in their own modules
		}
		found := false
		for _, f := range files {
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil && strings.HasPrefix(file.Doc.Text(), "Package "+file.Name.Name+" ") ||
				file.Doc != nil && file.Name.Name == "main" && strings.HasPrefix(file.Doc.Text(), "Command ") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no '// Package ...' doc comment", dir)
		}
	}
}

// upper are the packages that compose or call domains (client is the API
// client, so it sits beside cli); a domain importing them
// would make the dependency graph circular in spirit if not in fact.
var upper = []string{"internal/app", "internal/cli", "internal/client", "internal/api", "internal/web", "cmd"}

func isUpper(dir string) bool {
	for _, u := range upper {
		if dir == u || strings.HasPrefix(dir, u+"/") {
			return true
		}
	}
	return false
}

func TestDomainsNeverImportUpperLayers(t *testing.T) {
	for dir, files := range packages(t) {
		if isUpper(dir) || !strings.HasPrefix(dir, "internal/") {
			continue
		}
		for _, f := range files {
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if rel, ok := strings.CutPrefix(path, module+"/"); ok && isUpper(rel) {
					t.Errorf("%s imports %s: domains must not import app, cli, api or web", f, path)
				}
			}
		}
	}
}

func TestRuleCatchesAViolation(t *testing.T) {
	// The rule above must be able to fail: check isUpper on known cases.
	for dir, want := range map[string]bool{"internal/app": true, "internal/api": true, "internal/apix": false,
		"internal/deploy": false, "internal/cli": true, "cmd/phoenix": true} {
		if isUpper(dir) != want {
			t.Errorf("isUpper(%q) = %v", dir, !want)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", "go.mod")); err != nil {
		t.Fatal("tests must run from internal/archtest:", err)
	}
}

// TestWebReachesDataOnlyThroughTheAPI keeps the dashboard a client of the
// API: it may use the domains' types, never the store or a database, so
// it cannot show or change what the API would refuse.
func TestWebReachesDataOnlyThroughTheAPI(t *testing.T) {
	forbidden := []string{module + "/internal/store", module + "/internal/app", module + "/internal/cli", "database/sql"}
	files := packages(t)["internal/web"]
	if len(files) == 0 {
		t.Fatal("no internal/web package")
	}
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: the dashboard reads and changes data through the API only", f, path)
				}
			}
		}
	}
}
