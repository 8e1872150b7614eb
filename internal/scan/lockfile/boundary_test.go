package lockfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// symlink makes link (below dir) a symbolic link to target, its folder
// first.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// outsideFile is a file outside any project, holding data: what a
// hostile repository's symbolic link would have the gates read.
func outsideFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantOutside checks that err says the file named want, inside the
// project, leads outside it, and that it names nothing of the outside
// file (secret, its path).
func wantOutside(t *testing.T, err error, want, secret string) {
	t.Helper()
	if !errors.Is(err, ErrOutside) {
		t.Fatalf("error %v, want one saying %s leads outside the project", err, want)
	}
	if msg := err.Error(); !strings.Contains(msg, want+": not read: "+ErrOutside.Error()) || strings.Contains(msg, secret) {
		t.Errorf("error %q: want it to name %s, and not %s", msg, want, secret)
	}
}

// TestLockfileLinkedOutsideIsNotRead: a lockfile or package.json that is a
// symbolic link out of the project (to a file that parses, as a real
// lockfile would) was read and its packages checked as the project's.
func TestLockfileLinkedOutsideIsNotRead(t *testing.T) {
	lock, err := os.ReadFile("testdata/npm3/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"package-lock.json", "package.json"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "package-lock.json"), lock)
			outside := outsideFile(t, "secret.json", `{"name":"outside"}`)
			os.Remove(filepath.Join(dir, name))
			symlink(t, outside, filepath.Join(dir, name))
			_, err := Load(context.Background(), dir)
			wantOutside(t, err, filepath.Join(dir, name), outside)
		})
	}
}

// TestFolderLinkedOutsideIsNotRead: a folder of the repository that is a
// symbolic link out of it is not read through, whether it is the folder
// checked or a workspace package's; the repository's top (.git) is the
// boundary.
func TestFolderLinkedOutsideIsNotRead(t *testing.T) {
	repo := copyTree(t, "testdata/ws-npm")
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"))
	elsewhere := copyTree(t, "testdata/npm3")
	symlink(t, elsewhere, filepath.Join(repo, "linked"))
	_, err := Load(context.Background(), filepath.Join(repo, "linked"))
	wantOutside(t, err, filepath.Join(repo, "linked", "package.json"), elsewhere)

	// apps/web's package.json links outside: its workspace cannot be told.
	web := filepath.Join(repo, "apps", "web", "package.json")
	os.Remove(web)
	symlink(t, filepath.Join(elsewhere, "package.json"), web)
	_, err = Load(context.Background(), filepath.Dir(web))
	wantOutside(t, err, web, elsewhere)
}

// TestWorkspaceRootLinkedOutsideIsNotRead: a workspace package's
// lockfile is its root's; the root's lockfile, or the package.json that
// makes it a workspace root, linked out of the project is not read.
func TestWorkspaceRootLinkedOutsideIsNotRead(t *testing.T) {
	for _, name := range []string{"package-lock.json", "package.json"} {
		t.Run(name, func(t *testing.T) {
			repo := copyTree(t, "testdata/ws-npm")
			outside := filepath.Join(copyTree(t, "testdata/ws-npm"), name)
			os.Remove(filepath.Join(repo, name))
			symlink(t, outside, filepath.Join(repo, name))
			_, err := Load(context.Background(), filepath.Join(repo, "apps", "web"))
			wantOutside(t, err, filepath.Join(repo, name), outside)
		})
	}
}

// TestLinksInsideTheProjectAreRead: a symbolic link that stays inside the
// project (the repository's top) is followed, as before: a lockfile
// linked to a shared one, a workspace package's folder linked in
// from elsewhere in the repository.
func TestLinksInsideTheProjectAreRead(t *testing.T) {
	repo := copyTree(t, "testdata/ws-npm")
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"))
	if err := os.MkdirAll(filepath.Join(repo, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(repo, "package-lock.json"), filepath.Join(repo, "shared", "lock.json")); err != nil {
		t.Fatal(err)
	}
	symlink(t, "shared/lock.json", filepath.Join(repo, "package-lock.json"))
	if err := os.Rename(filepath.Join(repo, "apps", "admin"), filepath.Join(repo, "shared", "admin")); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../shared/admin", filepath.Join(repo, "apps", "admin"))
	for _, dir := range []string{"apps/web", "apps/admin"} {
		locks, err := Load(context.Background(), filepath.Join(repo, filepath.FromSlash(dir)))
		if err != nil || len(locks) != 1 || len(locks[0].Packages) == 0 {
			t.Fatalf("%s: %d lockfiles, error %v; want the root's, read", dir, len(locks), err)
		}
	}
}

// TestIsEscapeKnowsOSRoot: IsEscape tells os.Root's refusal by its text,
// which Go does not export: this fails if Go changes it.
func TestIsEscapeKnowsOSRoot(t *testing.T) {
	dir := t.TempDir()
	symlink(t, "/", filepath.Join(dir, "up"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"up", "../x", "up/etc"} {
		if _, err := root.Stat(name); !IsEscape(err) {
			t.Errorf("%s: %v, not seen as leading outside", name, err)
		}
	}
	if _, err := root.Stat("missing"); IsEscape(err) {
		t.Errorf("missing: %v seen as leading outside", err)
	}
}

// TestBerryWorkspaceLinkedOutside: the package.json of a workspace
// package a berry lockfile names, linked out of the project, is not read
// (its dependencies were read from the outside file): a problem says its
// dependencies go unchecked.
func TestBerryWorkspaceLinkedOutside(t *testing.T) {
	repo := copyTree(t, "testdata/ws-berry")
	ui := filepath.Join(repo, "packages", "ui", "package.json")
	outside := outsideFile(t, "package.json", outsideUI)
	os.Remove(ui)
	symlink(t, outside, ui)
	wantOutsideProblem(t, repo, "packages/ui", ui, outside)
}

// outsideUI is a workspace package's package.json outside the project,
// with a dependency no problem may name.
const outsideUI = `{"name":"@acme/ui","dependencies":{"left-pad":"1.3.0"}}`

// wantOutsideProblem loads dir, whose lockfile is read, and checks that
// a problem of the workspace package in folder entry says its
// package.json, file, leads outside, and that none tells of the outside
// file (its path, its dependency).
func wantOutsideProblem(t *testing.T, dir, entry, file, outside string) {
	t.Helper()
	locks, err := Load(context.Background(), dir)
	if err != nil || len(locks) != 1 {
		t.Fatalf("%d lockfiles, error %v", len(locks), err)
	}
	var found bool
	for _, p := range locks[0].Problems {
		if p.Entry == entry && strings.Contains(p.Msg, file+": not read: "+ErrOutside.Error()) {
			found = true
		}
		if strings.Contains(p.Error(), outside) || strings.Contains(p.Error(), "left-pad") {
			t.Errorf("problem %q tells of the outside file", p.Error())
		}
	}
	if !found {
		t.Errorf("problems %+v, want one saying %s leads outside", locks[0].Problems, file)
	}
}

// TestWorkspacePackageLinkedOutside: yarn reads what a workspace
// package depends on in its package.json. One linked out of the project
// (the file, or the package's folder) is not read, and a problem names
// it where yarn v1's workspace packages were found by a walk that passed
// over it unseen, and where a berry package checked alone depended on
// one: at the root, and for apps/web, which depends on @acme/ui.
func TestWorkspacePackageLinkedOutside(t *testing.T) {
	for _, fixture := range []string{"ws-yarn1", "ws-berry"} {
		for _, checked := range []string{".", "apps/web"} {
			for _, linked := range []string{"file", "folder"} {
				if fixture == "ws-berry" && checked == "." && linked == "file" {
					continue // TestBerryWorkspaceLinkedOutside
				}
				t.Run(fixture+"/"+checked+"/"+linked, func(t *testing.T) {
					repo := copyTree(t, "testdata/"+fixture)
					writeFile(t, filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"))
					ui := filepath.Join(repo, "packages", "ui")
					outside := outsideFile(t, "package.json", outsideUI)
					if linked == "folder" {
						os.RemoveAll(ui)
						symlink(t, filepath.Dir(outside), ui)
					} else {
						os.Remove(filepath.Join(ui, "package.json"))
						symlink(t, outside, filepath.Join(ui, "package.json"))
					}
					wantOutsideProblem(t, filepath.Join(repo, checked), "packages/ui", filepath.Join(ui, "package.json"), filepath.Dir(outside))
				})
			}
		}
	}
}

// TestYarnV1WorkspaceFolderLinkedInside: a yarn v1 workspace package
// whose folder is a symbolic link within the project is read, as yarn
// reads it: the walk for the workspace packages passed over it, and
// what it depends on (debug) was reached by nothing.
func TestYarnV1WorkspaceFolderLinkedInside(t *testing.T) {
	repo := copyTree(t, "testdata/ws-yarn1")
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"))
	if err := os.MkdirAll(filepath.Join(repo, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(repo, "packages", "ui"), filepath.Join(repo, "shared", "ui")); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../shared/ui", filepath.Join(repo, "packages", "ui"))
	// at the root, each workspace package's dependencies are the
	// project's own; for apps/web, @acme/ui's are through it
	for dir, want := range map[string][]string{".": {"debug@2.6.9"}, "apps/web": {"@acme/ui@0.1.0", "debug@2.6.9"}} {
		l := load(t, filepath.Join(repo, dir))
		i := slices.IndexFunc(l.Packages, func(p Package) bool { return p.ID() == "debug@2.6.9" })
		if i < 0 || l.Packages[i].Dev || !slices.Equal(l.Packages[i].Path, want) {
			t.Errorf("%s: packages %+v; want debug@2.6.9 needed in production, path %q", dir, l.Packages, want)
		}
	}
}
