package license

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// symlink makes link a symbolic link to target; its folder is made by
// the files written before.
func symlink(t *testing.T, target, link string) {
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// licences runs the check on dir and gives the licence of each
// name@version.
func licences(t *testing.T, dir string) (map[string]string, []string) {
	t.Helper()
	r, err := Run(context.Background(), dir, DefaultPolicy(), Options{GoModCache: t.TempDir(), All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 {
		t.Errorf("problems %v", r.Problems)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Package+"@"+f.Version] = f.License
	}
	return got, r.Warnings
}

// TestPackageLinkedOutsideIsNotRead: node_modules/evil linked out of the
// project (to a folder whose package.json says MIT), and node_modules/b's
// LICENSE linked to a file outside, gave those packages the outside
// files' licences. They are not read, and a warning names each.
func TestPackageLinkedOutsideIsNotRead(t *testing.T) {
	proj, outside := t.TempDir(), t.TempDir()
	bsd, err := os.ReadFile("testdata/BSD-3-Clause.txt")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(proj, "package-lock.json"), `{"lockfileVersion":3,"packages":{"":{"dependencies":{"evil":"1","b":"1"}},
	"node_modules/evil":{"version":"1.0.0"},"node_modules/b":{"version":"1.0.0"}}}`)
	writeFile(t, filepath.Join(outside, "evil", "package.json"), `{"version":"1.0.0","license":"MIT"}`)
	writeFile(t, filepath.Join(outside, "LICENSE"), string(bsd))
	writeFile(t, filepath.Join(proj, "node_modules", "b", "package.json"), `{"version":"1.0.0"}`)
	symlink(t, filepath.Join(outside, "evil"), filepath.Join(proj, "node_modules", "evil"))
	symlink(t, filepath.Join(outside, "LICENSE"), filepath.Join(proj, "node_modules", "b", "LICENSE"))

	got, warnings := licences(t, proj)
	if got["evil@1.0.0"] != "" || got["b@1.0.0"] != "" {
		t.Errorf("licences %v, want none read from outside the project", got)
	}
	want := []string{
		"node_modules/b/LICENSE: not read: a symbolic link leads outside the project",
		"node_modules/evil/package.json: not read: a symbolic link leads outside the project",
	}
	text := strings.Join(warnings, "\n")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("warnings %q, want one saying %q", warnings, w)
		}
	}
	if strings.Contains(text, outside) {
		t.Errorf("warnings %q name where the links lead", warnings)
	}
}

// TestPackageLinkedInsideIsRead: links that stay inside the project (the
// repository's top, .git) are followed: pnpm's node_modules/<name> into
// node_modules/.pnpm, a workspace package's own node_modules into the
// root's store, a package linked from a vendored folder.
func TestPackageLinkedInsideIsRead(t *testing.T) {
	repo := t.TempDir()
	src := "../lockfile/testdata/ws-pnpm9"
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		writeFile(t, filepath.Join(repo, "frontend", rel), string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	front := filepath.Join(repo, "frontend")
	store := filepath.Join(front, "node_modules", ".pnpm")
	writeFile(t, filepath.Join(store, "ms@2.0.0", "node_modules", "ms", "package.json"), `{"version":"2.0.0","license":"0BSD"}`)
	writeFile(t, filepath.Join(store, "ms@2.1.3", "node_modules", "ms", "package.json"), `{"version":"2.1.3","license":"Unlicense"}`)
	writeFile(t, filepath.Join(store, "debug@2.6.9", "node_modules", "debug", "package.json"), `{"version":"2.6.9","license":"BSD-2-Clause"}`)
	writeFile(t, filepath.Join(repo, "vendor", "minimist", "package.json"), `{"version":"1.2.5","license":"ISC"}`)
	if err := os.MkdirAll(filepath.Join(front, "apps", "web", "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, ".pnpm/ms@2.0.0/node_modules/ms", filepath.Join(front, "node_modules", "ms"))
	symlink(t, ".pnpm/debug@2.6.9/node_modules/debug", filepath.Join(front, "node_modules", "debug"))
	symlink(t, "../../../node_modules/.pnpm/ms@2.1.3/node_modules/ms", filepath.Join(front, "apps", "web", "node_modules", "ms"))
	symlink(t, "../../vendor/minimist", filepath.Join(front, "node_modules", "minimist"))

	got, warnings := licences(t, filepath.Join(front, "apps", "web"))
	want := map[string]string{"ms@2.0.0": "0BSD", "ms@2.1.3": "Unlicense", "debug@2.6.9": "BSD-2-Clause", "minimist@1.2.5": "ISC"}
	for pkg, lic := range want {
		if got[pkg] != lic {
			t.Errorf("%s: licence %q, want %q", pkg, got[pkg], lic)
		}
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
}
