package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesAllowAllButTheHiddenPaths: the rules name every entry on the
// way to the hidden paths except them (a path hidden inside another one
// changes nothing), then the open paths inside them, and never / itself.
func TestRulesAllowAllButTheHiddenPaths(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"data/runs/1/work", "data/keys", "project", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "data"), filepath.Join(root, "link-to-data")); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	rs, _, err := Policy{Hidden: []string{data, filepath.Join(data, "keys")}, Open: []string{filepath.Join(data, "runs/1/work")}}.rules()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]access{}
	for _, r := range expanded(t, rs) {
		if r.path == "/" || within(data, r.path) && r.path != filepath.Join(data, "runs/1/work") {
			t.Errorf("rule allows %s, which holds or is the data dir", r.path)
		}
		got[r.path] = r.access
	}
	for _, want := range []string{filepath.Join(root, "project"), filepath.Join(root, "other"), filepath.Join(data, "runs/1/work"), "/usr"} {
		if a, ok := got[want]; !ok || a != full {
			t.Errorf("%s: not fully allowed (%v)", want, got)
		}
	}
	if _, ok := got[filepath.Join(root, "link-to-data")]; ok {
		t.Error("a link to the data dir was allowed")
	}
}

func TestRulesRefuse(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		p    Policy
		want string
	}{
		{Policy{Hidden: []string{"/"}}, "the whole file system"},
		{Policy{Hidden: []string{filepath.Join(root, "p/.phoenix")}, Open: []string{filepath.Join(root, "p")}}, " holds "},
		{Policy{Hidden: []string{filepath.Join(root, "p/.phoenix")}, ReadOnly: []string{root}}, " holds "},
	} {
		if _, _, err := tt.p.rules(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.p, err, tt.want)
		}
	}
}

func TestOverlaps(t *testing.T) {
	hidden := []string{"/var/lib/phoenix", "/etc/phoenix/master.key"}
	for path, want := range map[string]bool{
		"/var/lib/phoenix": true, "/var/lib/phoenix/homes": true, "/var/lib": true, "/": true,
		"/home/ci": false, "/var/lib/phoenix2": false, "/etc/phoenix": true, "/etc": true, "/etc/ssl": false,
	} {
		if got := Overlaps(path, hidden); got != want {
			t.Errorf("Overlaps(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestRulesForAHiddenPathNotThereYet: a key file or a backup repository
// that does not exist yet confines as well; the folders on the way that
// do exist are listed, the rest allows nothing.
func TestRulesForAHiddenPathNotThereYet(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	rs, _, err := Policy{Hidden: []string{filepath.Join(root, "missing", "repo")}}.rules()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range expanded(t, rs) {
		found = found || r.path == filepath.Join(root, "other")
		if strings.HasPrefix(r.path, filepath.Join(root, "missing")) {
			t.Errorf("rule for %s", r.path)
		}
	}
	if !found {
		t.Errorf("%s/other not allowed: %v", root, rs)
	}
}

// expanded is rs with each folder rule replaced by a rule per entry it
// allows.
func expanded(t *testing.T, rs []rule) []rule {
	t.Helper()
	var out []rule
	for _, r := range rs {
		if !r.folder {
			out = append(out, r)
			continue
		}
		paths, err := entries(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			out = append(out, rule{path: p, access: r.access})
		}
	}
	return out
}

// entries are the paths a folder rule allows, read afresh (the platform
// code reads them from its folder cache): its folder's entries but those
// skipped. A folder not there, or that the server's user may not
// list, allows nothing.
func entries(r rule) ([]string, error) {
	list, err := os.ReadDir(r.path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	var out []string
	for _, e := range list {
		if path := filepath.Join(r.path, e.Name()); r.allows(path, e.Type()) {
			out = append(out, path)
		}
	}
	return out, nil
}
