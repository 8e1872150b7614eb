package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestPreviewSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"feature/Login_2": "feature-login-2",
		"v1.4.2":          "v1-4-2",
		"--x--":           "x",
		"Ünïcode/branch":  "n-code-branch",
		"a_very_long_branch_name_that_goes_on_and_on_beyond_any_reasonable_length_x": "a-very-long-branch-name-that-goes-on-and-on-beyond-any",
	} {
		if got := previewSlug(in); got != want {
			t.Errorf("previewSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoopsFlag: --loops and --edge-loops take auto (the default) or a
// count of at least 1; anything else, on the command line or in
// PHOENIX_EDGE_LOOPS, is a usage error that says what to give.
func TestLoopsFlag(t *testing.T) {
	var l loopsFlag
	if l.String() != "auto" {
		t.Fatalf("default %q", l.String())
	}
	for in, want := range map[string]loopsFlag{"auto": 0, "1": 1, "3": 3} {
		if err := l.Set(in); err != nil || l != want {
			t.Fatalf("Set(%q): %d, %v", in, l, err)
		}
	}
	for _, in := range []string{"0", "-1", "two", "", "1.5", "AUTO"} {
		if err := l.Set(in); err == nil {
			t.Fatalf("Set(%q) accepted", in)
		}
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Main([]string{"serve", dir, "--loops", "0"}, nil, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "--loops") || !strings.Contains(errb.String(), "give auto, or a whole number") {
		t.Fatalf("serve --loops 0: exit %d, %s", code, errb.String())
	}
	t.Setenv("PHOENIX_DATA", filepath.Join(dir, "data"))
	t.Setenv("PHOENIX_EDGE_LOOPS", "many")
	errb.Reset()
	if code := Main([]string{"server"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), `PHOENIX_EDGE_LOOPS="many"`) {
		t.Fatalf("PHOENIX_EDGE_LOOPS=many: exit %d, %s", code, errb.String())
	}
}

// TestEnvAlias: a backup command's --repo is filled by the server's
// PHOENIX_BACKUP_REPO when neither the command line nor PHOENIX_REPO gave
// it, and PHOENIX_REPO still wins over the alias.
func TestEnvAlias(t *testing.T) {
	dir := t.TempDir()
	alias, direct := filepath.Join(dir, "by-alias"), filepath.Join(dir, "by-mirror")
	t.Setenv("PHOENIX_BACKUP_KEY", "a key long enough")
	t.Setenv("PHOENIX_DATA", filepath.Join(dir, "data")) // were the alias ignored, list would start a server there
	t.Setenv("PHOENIX_BACKUP_REPO", alias)
	var out, errb bytes.Buffer
	if code := Main([]string{"backup", "list"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), alias) {
		t.Fatalf("with the alias: exit %d, %s", code, errb.String())
	}
	t.Setenv("PHOENIX_BACKUP_KEY", "a key long enough")
	t.Setenv("PHOENIX_REPO", direct)
	errb.Reset()
	if code := Main([]string{"backup", "list"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), direct) {
		t.Fatalf("with both: exit %d, %s", code, errb.String())
	}
}

func TestCheckIdleTimeout(t *testing.T) {
	t.Parallel()
	if err := checkIdleTimeout("--idle-timeout", time.Second); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, -time.Minute, 500 * time.Millisecond} {
		err := checkIdleTimeout("--edge-idle-timeout", d)
		if err == nil || usererr.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--edge-idle-timeout must be at least 1s") {
			t.Fatalf("%v: %v", d, err)
		}
	}
}

func TestCheckMaxConns(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 256} {
		if err := checkMaxConns("--max-conns-per-ip", n); err != nil {
			t.Fatalf("%d: %v", n, err)
		}
	}
	err := checkMaxConns("--edge-max-conns-per-ip", -1)
	if err == nil || usererr.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--edge-max-conns-per-ip must be 0 or more") {
		t.Fatalf("-1: %v", err)
	}
}
