package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run is Main with the output captured.
func run(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// unsetEnv removes the variables for the test (and restores them after).
func unsetEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
}

// siteDir makes a folder with a one-page site and a phoenix.yaml holding
// yaml, makes it the working directory, and returns it.
func siteDir(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dist", "index.html"), []byte("<title>hi</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

// TestEnvFillsRequiredFlags: a flag's PHOENIX_* variable counts for
// required flags and flag groups as the flag does; a flag on the command
// line that excludes it wins over the variable, and two variables that
// exclude each other are a usage error that names them.
func TestEnvFillsRequiredFlags(t *testing.T) {
	unsetEnv(t, "PHOENIX_PREVIEW", "PHOENIX_PROJECT", "PHOENIX_SERVER")
	siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {preview: true}\n")
	t.Setenv("PHOENIX_DATA", filepath.Join(t.TempDir(), "data"))
	t.Setenv("PHOENIX_ENV", "staging")
	if _, errs, code := run("deploy", "dist"); code != 0 {
		t.Fatalf("PHOENIX_ENV=staging phoenix deploy dist: exit %d: %s", code, errs)
	}
	out, errs, code := run("deployments")
	if code != 0 || !strings.Contains(out, "sha256:") {
		t.Fatalf("PHOENIX_ENV=staging phoenix deployments: exit %d: %s%s", code, out, errs)
	}
	if out, errs, code := run("deploy", "dist", "--preview", "feat"); code != 0 || !strings.Contains(out, "shop/preview-feat") {
		t.Fatalf("PHOENIX_ENV with --preview: exit %d: %s%s", code, out, errs)
	}
	t.Setenv("PHOENIX_PREVIEW", "feat")
	if _, errs, code := run("deploy", "dist"); code != 2 || !strings.Contains(errs, "none of the others") ||
		!strings.Contains(errs, "PHOENIX_ENV sets --env, PHOENIX_PREVIEW sets --preview") {
		t.Fatalf("PHOENIX_ENV and PHOENIX_PREVIEW: exit %d: %s", code, errs)
	}
	// An empty variable is no value for a required flag.
	t.Setenv("PHOENIX_ENV", "")
	if _, errs, code := run("deployments"); code != 2 || !strings.Contains(errs, `required flag(s) "env" not set`) {
		t.Fatalf("PHOENIX_ENV=: exit %d: %s", code, errs)
	}
}

// TestGivenOnCommandLine: a flag filled from its variable is set, but not
// given on the command line (phoenix demo's --data tells them apart).
func TestGivenOnCommandLine(t *testing.T) {
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct {
		args  []string
		given bool
	}{{[]string{"x"}, false}, {[]string{"x", "--data", t.TempDir()}, true}} {
		g := &Globals{}
		root := newRoot(g)
		var changed, given bool
		root.AddCommand(&cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
			changed, given = cmd.Flags().Changed("data"), g.givenOnCommandLine(cmd, "data")
			return nil
		}})
		root.SetArgs(c.args)
		if err := root.Execute(); err != nil || !changed || given != c.given {
			t.Fatalf("%v: changed %v, given %v, err %v", c.args, changed, given, err)
		}
	}
}

// TestRequiredFlagsAreUsageErrors: a missing required flag exits 2 with a
// hint naming the flag and its variable.
func TestRequiredFlagsAreUsageErrors(t *testing.T) {
	unsetEnv(t, "PHOENIX_ENV", "PHOENIX_PREVIEW", "PHOENIX_OUT")
	t.Setenv("PHOENIX_DATA", filepath.Join(t.TempDir(), "data"))
	for _, c := range []struct {
		args []string
		msg  string
		hint string
	}{
		{[]string{"deployments"}, `required flag(s) "env" not set`, "hint: pass --env, or set PHOENIX_ENV; see 'phoenix deployments --help'"},
		{[]string{"rollback"}, `required flag(s) "env" not set`, "PHOENIX_ENV"},
		{[]string{"deploy", "dist"}, "at least one of the flags in the group [env preview] is required",
			"hint: pass --env or --preview, or set PHOENIX_ENV or PHOENIX_PREVIEW"},
		{[]string{"artifact", "build", "dist"}, `required flag(s) "out" not set`, "PHOENIX_OUT"},
	} {
		if _, errs, code := run(c.args...); code != 2 || !strings.Contains(errs, "error: "+c.msg) || !strings.Contains(errs, c.hint) {
			t.Errorf("phoenix %s: exit %d: %s", strings.Join(c.args, " "), code, errs)
		}
	}
}

// TestUnknownSubcommand: every group command refuses a subcommand it does
// not have (exit 2, with the closest ones suggested); a bare group prints
// its help, as does 'GROUP help'.
func TestUnknownSubcommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ args, want string }{
		{"backup lst", `unknown command "lst" for "phoenix backup"; did you mean list?`},
		{"secret lst", `unknown command "lst" for "phoenix secret"; did you mean list?`},
		{"vault unsael", `did you mean unseal?`},
		{"audit verfy", `did you mean verify?`},
		{"token lst", `did you mean list?`},
		{"advisories status", `unknown command "status" for "phoenix advisories"`},
	} {
		if _, errs, code := run(strings.Fields(c.args)...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("phoenix %s: exit %d: %s", c.args, code, errs)
		}
	}
	// Every group, however deep.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.HasSubCommands() || !c.HasParent() {
			return
		}
		args := append(strings.Fields(c.CommandPath())[1:], "nosuchcommand")
		if _, errs, code := run(args...); code != 2 || !strings.Contains(errs, `unknown command "nosuchcommand"`) ||
			!strings.Contains(errs, "hint: see '"+c.CommandPath()+" --help'") {
			t.Errorf("phoenix %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
	}
	walk(newRoot(&Globals{}))
	for _, args := range [][]string{{"backup"}, {"backup", "help"}} {
		if out, _, code := run(args...); code != 0 || !strings.Contains(out, "Available Commands:") {
			t.Fatalf("phoenix %s: exit %d: %s", strings.Join(args, " "), code, out)
		}
	}
}

// TestUsageExitCodes: arguments, folders, key files and phoenix.yaml
// settings the user must fix exit 2.
func TestUsageExitCodes(t *testing.T) {
	unsetEnv(t, "PHOENIX_ENV", "PHOENIX_PREVIEW", "PHOENIX_MASTER_KEY", "PHOENIX_SERVER")
	dir := siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {}\n")
	t.Setenv("PHOENIX_DATA", filepath.Join(dir, "data"))
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"release", "banana"}, `release tag "banana" is not a semantic version`},
		{[]string{"serve", "nope"}, "error: folder nope does not exist"},
		{[]string{"serve", "phoenix.yaml"}, "error: phoenix.yaml is not a folder"},
		{[]string{"init", filepath.Join(dir, "nope")}, "error: folder " + filepath.Join(dir, "nope") + " does not exist"},
		{[]string{"server", "--master-key-file", short, "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"},
			"the master key is too short"},
	} {
		if _, errs, code := run(c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("phoenix %s: exit %d: %s", strings.Join(c.args, " "), code, errs)
		}
	}
}

// TestRefusedValuesExitTwo: a value the server refuses as invalid (400,
// code "invalid") exits 2 as a bad flag does, in-process as through the
// API; a gate that fails exits 1.
func TestRefusedValuesExitTwo(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_TOKEN", "PHOENIX_PROJECT", "PHOENIX_ENV")
	noMasterKey(t)
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--deploy"}, "error: a deploy token needs a project and an environment"},
		{[]string{"alerts", "ack", "nope"}, `error: alert id "nope" is not RULE@ENVIRONMENT`},
	} {
		if _, errs, code := run(c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("phoenix %s: exit %d (want 2): %s", strings.Join(c.args, " "), code, errs)
		}
	}
}

// TestConfigErrorIsUsageAndWarningsAreNotErrors: a phoenix.yaml that does
// not load exits 2 with its errors at file:line:col; its warnings are
// printed as warnings, not in the error.
func TestConfigErrorIsUsageAndWarningsAreNotErrors(t *testing.T) {
	unsetEnv(t, "PHOENIX_ENV", "PHOENIX_PREVIEW", "PHOENIX_SERVER")
	siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {}\n  production:\n    protection: {approvals: 1}\n"+
		"edge:\n  rate_limit:\n    requests: 10\n    per: 0s\n")
	t.Setenv("PHOENIX_DATA", filepath.Join(t.TempDir(), "data"))
	for _, args := range [][]string{{"deploy", "dist", "--env", "staging"}, {"release", "v1.0.0"}} {
		_, errs, code := run(args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || len(lines) != 3 ||
			!strings.HasPrefix(lines[0], "warning: ") || !strings.Contains(lines[0], "phoenix.yaml:5:5: environments.production.protection.approvers: ") ||
			!strings.HasPrefix(lines[1], "error: ") || !strings.Contains(lines[1], "phoenix.yaml:9:5: edge.rate_limit.per: must be positive") ||
			lines[2] != "hint: check it with phoenix validate" {
			t.Errorf("phoenix %s: exit %d:\n%s", strings.Join(args, " "), code, errs)
		}
	}
}
