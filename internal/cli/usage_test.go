package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestArgumentErrorsNameTheCommand: a wrong number of arguments is a usage
// error (exit 2) that names the command and shows its usage line, and a
// flag value Go cannot parse is said in words, without strconv's text.
func TestArgumentErrorsNameTheCommand(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_ENV")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct{ args, want, hint string }{
		{"logs", "error: phoenix logs: accepts 1 arg(s), received 0", "hint: usage: phoenix logs RUN"},
		{"alerts ack", "error: phoenix alerts ack: accepts 1 arg(s)", "hint: usage: phoenix alerts ack ID"},
		{"deployments x --env production", `error: phoenix deployments takes no arguments, got "x"`, "see 'phoenix deployments --help'"},
		{"runs --limit abc", `invalid argument "abc" for "--limit" flag: want a whole number`, "hint: see 'phoenix runs --help'"},
		{"runs --limit 99999999999999999999", "number out of range", "hint: see 'phoenix runs --help'"},
		{"alerts silence --for 3x", `"--for" flag: want a duration such as 30s, 5m, 2h or 7d`, "see 'phoenix alerts silence --help'"},
		{"demo --exit=maybe", `"--exit" flag: want true or false`, "see 'phoenix demo --help'"},
		{"status --bogus", "unknown flag: --bogus", "see 'phoenix status --help'"},
	} {
		_, errs, code := run(strings.Fields(c.args)...)
		if code != 2 || !strings.Contains(errs, c.want) || !strings.Contains(errs, c.hint) || strings.Contains(errs, "strconv") {
			t.Errorf("phoenix %s: exit %d:\n%s", c.args, code, errs)
		}
	}
}

// TestEveryCommandChecksArgsAsUsage: every command that checks its
// arguments turns cobra's errors into usage errors (usageArgs covers all).
func TestEveryCommandChecksArgsAsUsage(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Args == nil || c.HasSubCommands() || !c.Runnable() {
			return
		}
		many := make([]string, 50) // more arguments than any command takes
		for i := range many {
			many[i] = "x"
		}
		if err := c.Args(c, many); err != nil && !strings.Contains(err.Error(), c.CommandPath()) {
			t.Errorf("%s: %v does not name the command", c.CommandPath(), err)
		}
	}
	walk(newRoot(&Globals{}))
}

// TestEveryCommandHasHelp: every command has a one-line summary and at
// least one example in --help.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.HasParent() && c.Parent().Name() == "completion" {
			return
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") {
			t.Errorf("%s: summary %q is not one line", c.CommandPath(), c.Short)
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no example in --help", c.CommandPath())
		}
	}
	walk(newRoot(&Globals{}))
}

// TestBadValuesAreUsageErrors: a --limit below 1, a --since that is no
// time, a --server that is no URL and a path that does not exist are usage
// errors (exit 2) that name the flag or the path, checked before a server
// is asked, and without Go's "stat ...: no such file or directory".
func TestBadValuesAreUsageErrors(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_ENV", "PHOENIX_TOKEN", "PHOENIX_MASTER_KEY", "PHOENIX_BACKUP_KEY")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	missing := filepath.Join(t.TempDir(), "nope")
	pem := filepath.Join(t.TempDir(), "a.pem") // there; a pair's count is checked after each file
	if err := os.WriteFile(pem, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ args, want string }{
		{"runs --limit 0", "error: --limit 0: want a positive number"},
		{"deployments --env staging --project shop --limit -1", "error: --limit -1: want a positive number"},
		{"audit log --limit -5", "error: --limit -5: want a positive number"},
		{"alerts --history --limit 0", "error: --limit 0: want a positive number"},
		{"audit log --since yesterday", `error: --since "yesterday": want a time (2026-01-02T15:04:05Z) or a duration (24h, 7d)`},
		{"status --server phoenix.example.com --token x", `error: --server "phoenix.example.com": want the URL of a phoenix server`},
		{"status --server ftp://phoenix.example.com --token x", `error: --server "ftp://phoenix.example.com"`},
		{"artifact verify " + missing, "error: artifact file " + missing + " does not exist"},
		{"artifact build " + missing + " --out x.tar", "error: folder " + missing + " does not exist"},
		{"artifact build . --out x.tar --key " + missing, "error: key file " + missing + " does not exist"},
		{"validate " + missing, "error: file or folder " + missing + " does not exist"},
		{"advisories import " + missing, "error: advisories file or folder " + missing + " does not exist"},
		{"deploy " + missing + " --env staging --project shop", "error: folder or artifact file " + missing + " does not exist"},
		{"backup verify --repo " + missing + " --key-file " + missing, "error: key file " + missing + " does not exist"},
		{"vault status --master-key-file " + missing, "error: key file " + missing + " does not exist"},
		{"artifact build . --out " + filepath.Join(missing, "a.tar"), "error: --out " + filepath.Join(missing, "a.tar") + ": folder " + missing + " does not exist"},
		{"check secrets . --sarif " + filepath.Join(missing, "s.sarif"), "error: --sarif " + filepath.Join(missing, "s.sarif") + ": folder " + missing + " does not exist"},
		{"check sbom . --out " + filepath.Join(missing, "b.json"), "error: --out " + filepath.Join(missing, "b.json") + ": folder " + missing + " does not exist"},
		{"secret set A --from-file " + missing, "error: file " + missing + " does not exist"},
		{"secret import " + missing, "error: file " + missing + " does not exist"},
		{"serve . --tls-cert " + missing + " --tls-key " + missing, "error: --tls-cert " + missing + " does not exist"},
		{"server --edge-tls-cert " + missing + " --edge-tls-key " + missing, "error: --edge-tls-cert " + missing + " does not exist"},
		{"server --edge-tls-cert " + pem + " --edge-tls-key " + pem + " --edge-tls-cert " + pem, "error: --edge-tls-cert given 2 time(s), --edge-tls-key 1: give one key for each certificate, in the same order"},
	} {
		_, errs, code := run(strings.Fields(c.args)...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Contains(errs, "stat ") {
			t.Errorf("phoenix %s: exit %d:\n%s", c.args, code, errs)
		}
	}
}

// TestRootHelpGroupsCommands: 'phoenix --help' lists every command under a
// heading, getting started first; only help, completion and version are
// left for the "Additional Commands" at the end.
func TestRootHelpGroupsCommands(t *testing.T) {
	t.Parallel()
	root := newRoot(&Globals{})
	for _, c := range root.Commands() {
		if c.GroupID == "" && c.Name() != "version" && c.Name() != "help" && c.Name() != "completion" {
			t.Errorf("%s is under no heading of phoenix --help (add it to commandGroups)", c.Name())
		}
	}
	out, _, code := run("--help")
	start, ship := strings.Index(out, "Getting started:\n  demo"), strings.Index(out, "Releasing and deploying:")
	if code != 0 || start < 0 || ship < start || !strings.Contains(out, "Additional Commands:") {
		t.Fatalf("phoenix --help:\n%s", out)
	}
}

// TestEnvValueErrorsNameTheVariable: a bad value from a PHOENIX_*
// variable is a usage error naming the variable (the user typed no flag),
// in words rather than strconv's.
func TestEnvValueErrorsNameTheVariable(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_TOKEN")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct{ env, value, args, want string }{
		{"PHOENIX_OUTPUT", "yaml", "status", `error: PHOENIX_OUTPUT "yaml": must be table or json`},
		{"PHOENIX_SERVER", "phoenix.example.com", "status --token x", `error: PHOENIX_SERVER "phoenix.example.com": want the URL`},
		{"PHOENIX_LIMIT", "ten", "runs", `error: PHOENIX_LIMIT="ten": want a whole number`},
		{"PHOENIX_FOR", "3x", "alerts silence --comment x", `error: PHOENIX_FOR="3x": want a duration`},
		// values that parse but are refused: named by the variable too
		{"PHOENIX_LIMIT", "0", "runs", `error: PHOENIX_LIMIT 0: want a positive number`},
		{"PHOENIX_LIMIT", "-1", "audit log", `error: PHOENIX_LIMIT -1: want a positive number`},
		{"PHOENIX_LIMIT", "0", "deployments --project shop --env staging", `error: PHOENIX_LIMIT 0: want a positive number`},
		{"PHOENIX_LIMIT", "0", "alerts --history", `error: PHOENIX_LIMIT 0: want a positive number`},
		{"PHOENIX_STATUS", "done", "runs", `error: PHOENIX_STATUS "done": want one of queued`},
		{"PHOENIX_SINCE", "soon", "audit log", `error: PHOENIX_SINCE "soon": want a time`},
		{"PHOENIX_SINCE", "soon", "report", `error: PHOENIX_SINCE "soon": `},
		{"PHOENIX_TO", "2000-01-01", "report --from 2026-10-01", `error: --from 2026-10-01 is not before PHOENIX_TO 2000-01-01`},
		// the variable that gave the value, an alias too (phoenix server's
		// flags: TestServerEnvValuesNameTheVariable)
		{"PHOENIX_DATABASE_URL", "mysql://db/phoenix", "store copy", `error: PHOENIX_DATABASE_URL: scheme "mysql" is not supported`},
		{"PHOENIX_TO", "mysql://db/phoenix", "store copy", `error: PHOENIX_TO: scheme "mysql" is not supported`},
		{"PHOENIX_DATABASE_URL", "mysql://db/phoenix", "projects", `error: PHOENIX_DATABASE_URL: scheme "mysql" is not supported`},
		{"PHOENIX_FROM", "ftp://offsite", "backup pull --to " + t.TempDir(), `error: PHOENIX_FROM: "ftp://offsite" is not an S3 URL`},
		{"PHOENIX_ENDPOINT", "localhost", "backup pull --from s3://offsite --to " + t.TempDir(), `error: PHOENIX_ENDPOINT: endpoint "localhost"`},
		{"PHOENIX_IDLE_TIMEOUT", "10ms", "serve .", `error: PHOENIX_IDLE_TIMEOUT must be at least 1s`},
		{"PHOENIX_MAX_CONNS_PER_IP", "-1", "serve .", `error: PHOENIX_MAX_CONNS_PER_IP must be 0 or more`},
		{"PHOENIX_TLS_CERT", "missing.pem", "serve .", `error: PHOENIX_TLS_CERT missing.pem does not exist`},
		{"PHOENIX_METRICS_ALLOW", "x", "serve .", `error: PHOENIX_METRICS_ALLOW: entry 1, "x", is not`},
		{"PHOENIX_ACCESS_LOG_KEEP", "0", "serve .", `error: PHOENIX_ACCESS_LOG_KEEP 0: keep at least 1`},
		{"PHOENIX_GEOIP_DB", "country.mmdb", "serve .", `error: PHOENIX_GEOIP_DB needs --config`},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, errs, code := run(strings.Fields(c.args)...)
			if code != 2 || !strings.Contains(errs, c.want) || strings.Contains(errs, "strconv") {
				t.Errorf("%s=%s phoenix %s: exit %d:\n%s", c.env, c.value, c.args, code, errs)
			}
		})
	}
}

// asFlags names every flag as given on the command line, for tests of an
// option builder (Globals.flagOrEnv without the environment).
func asFlags(flag string) string { return "--" + flag }

// TestHintsSetWhatGaveTheValue: the hint's example of a refused value
// sets what gave it, the variable (PHOENIX_LIMIT=50) or the flag
// (--limit 50), not a flag the script never passed.
func TestHintsSetWhatGaveTheValue(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_TOKEN")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct{ env, value, args, want string }{
		{"PHOENIX_LIMIT", "0", "runs", "hint: e.g. PHOENIX_LIMIT=50"},
		{"", "", "runs --limit 0", "hint: e.g. --limit 50"},
		{"PHOENIX_SERVER", "phoenix.example.com", "status --token x", "hint: e.g. PHOENIX_SERVER=https://phoenix.example.com"},
		{"", "", "status --token x --server phoenix.example.com", "hint: e.g. --server https://phoenix.example.com"},
		{"PHOENIX_RUN_KEEP", "0", "server", "hint: set PHOENIX_RUN_KEEP=50 (the default), or --run-retention off"},
		{"PHOENIX_CERT_ALERT_DAYS", "-1", "server", "e.g. PHOENIX_CERT_ALERT_DAYS=14"},
	} {
		t.Run(c.args, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			_, errs, code := run(strings.Fields(c.args)...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("%s=%s phoenix %s: exit %d, want %q:\n%s", c.env, c.value, c.args, code, c.want, errs)
			}
		})
	}
}
