package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linkedKey is a key-shaped value a rule reports: split, so the
// repository holds no literal.
var linkedKey = "AKIA" + "Q4MZ7TX2WR5VN3KE"

// mustWrite writes data to path, making its folder.
func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLinksOutsideAreNamed: a file or folder of the project that is a
// symbolic link leading outside it was passed over as "ignored", with
// nothing to say the gate had not read it: it is counted as outside
// and a warning names it (not where it leads).
func TestLinksOutsideAreNamed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(outside, "state", "token.txt"), linkedKey+"\n")
	mustWrite(t, filepath.Join(dir, "src", "app.js"), "console.log(1)\n")
	if err := os.Symlink(filepath.Join(outside, "state", "token.txt"), filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../"+filepath.Base(outside)+"/state", filepath.Join(dir, "src", "conf")); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, dir, Options{})
	if len(r.Findings) != 0 || r.Scanned != 1 || r.Stats["outside"] != 2 {
		t.Errorf("findings %+v, %d scanned, stats %v; want none, 1, 2 outside", r.Findings, r.Scanned, r.Stats)
	}
	want := []string{"notes.txt" + outsideMsg, "src/conf" + outsideMsg}
	if strings.Join(r.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings %q, want %q", r.Warnings, want)
	}
}

// TestLinksInsideAreScannedOnce: a symbolic link that stays in the folder
// is not followed; what it leads to is scanned, once, at its own path,
// and nothing is said of it.
func TestLinksInsideAreScannedOnce(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "real", "keys.txt"), linkedKey+"\n")
	if err := os.Symlink("real/keys.txt", filepath.Join(dir, "keys.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, dir, Options{})
	if len(r.Findings) != 1 || r.Findings[0].File != "real/keys.txt" || len(r.Warnings) != 0 || r.Stats["outside"] != 0 {
		t.Errorf("findings %+v, warnings %q, stats %v; want real/keys.txt's only", r.Findings, r.Warnings, r.Stats)
	}
}

// TestIgnoreFileLinkedOutsideIsNotRead: a .phoenixignore linked to a file
// outside the folder was read, its lines taken as patterns (here one
// that hid every file); it is not read, and a warning says so.
func TestIgnoreFileLinkedOutsideIsNotRead(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(outside, "patterns"), "*\n")
	mustWrite(t, filepath.Join(dir, "keys.txt"), linkedKey+"\n")
	if err := os.Symlink(filepath.Join(outside, "patterns"), filepath.Join(dir, IgnoreFile)); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, dir, Options{})
	if len(r.Findings) != 1 || r.Findings[0].File != "keys.txt" {
		t.Errorf("findings %+v, want keys.txt's", r.Findings)
	}
	if len(r.Warnings) == 0 || !strings.HasPrefix(r.Warnings[0], IgnoreFile+": not read: a symbolic link leading outside") {
		t.Errorf("warnings %q, want one saying %s is not read", r.Warnings, IgnoreFile)
	}
}

// TestFolderGivenAsALinkIsScanned: the folder to scan may itself be a
// symbolic link (a checkout linked into place); the walk did not enter
// it, and the scan found nothing, silently. What it leads to is scanned.
func TestFolderGivenAsALinkIsScanned(t *testing.T) {
	real, links := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(real, "src", "keys.txt"), linkedKey+"\n")
	dir := filepath.Join(links, "checkout")
	if err := os.Symlink(real, dir); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, dir, Options{})
	if len(r.Findings) != 1 || r.Findings[0].File != "src/keys.txt" || r.Scanned != 1 || len(r.Warnings) != 0 {
		t.Errorf("findings %+v, %d scanned, warnings %q; want src/keys.txt's", r.Findings, r.Scanned, r.Warnings)
	}
}
