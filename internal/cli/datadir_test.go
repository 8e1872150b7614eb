package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadingCommandsMakeNoDataDir: a command that only shows what a
// server holds, run without --server on a data dir that does not exist (a
// mistyped --data, the default dir on a machine whose server is elsewhere),
// exits 2 naming the dir and makes nothing there; one that may set a new
// server up still runs. Every name in readsServer is a command.
func TestReadingCommandsMakeNoDataDir(t *testing.T) {
	root := newRoot(&Globals{})
	for _, path := range readsServer {
		args := strings.Fields(path)[1:]
		if c, rest, err := root.Find(args); err != nil || len(rest) != 0 || c.CommandPath() != path {
			t.Errorf("readsServer names %q, which is not a command (%v)", path, err)
		}
	}
	data := filepath.Join(t.TempDir(), "phoenx") // mistyped
	for _, args := range [][]string{{"status"}, {"runs"}, {"audit", "verify"}, {"alerts", "silences"},
		{"deployments", "--project", "shop", "--env", "production"}, {"logs", "1"}, {"secret", "list"}, {"vault", "status"}} {
		var out, errb bytes.Buffer
		code := Main(append(args, "--data", data), nil, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), "no phoenix data dir at "+data+" (--data)") {
			t.Errorf("%v on a data dir that does not exist: exit %d\n%s", args, code, errb.String())
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("%v made the data dir: %v", args, err)
		}
	}
	t.Setenv("PHOENIX_DATA", data)
	var out, errb bytes.Buffer
	if code := Main([]string{"user", "add", "alice", "--role", "viewer"}, nil, &out, &errb); code != 0 {
		t.Fatalf("user add on a new data dir: exit %d\n%s", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"user", "list"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "alice") {
		t.Fatalf("user list after it: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
