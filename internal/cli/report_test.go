package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/report"
)

// TestReportCommand runs phoenix report against an in-process server on a
// fresh data dir: tables, a Markdown document and JSON, as the admin (so
// with the access review), and never the admin token's secret.
func TestReportCommand(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PHOENIX_MASTER_KEY", "")
	out := mustRun(t, "", "report", "--data", data, "--since", "7d")
	for _, want := range []string{"PHOENIX REPORT", "PERFORMANCE", "DELIVERY", "ACCESS REVIEW: USERS", "AUDIT", "Chain intact"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	md := mustRun(t, "", "report", "--data", data, "-o", "markdown", "--section", "access", "--section", "audit")
	if !strings.HasPrefix(md, "# Phoenix report\n") || !strings.Contains(md, "| USER | ROLES |") || strings.Contains(md, "# Performance") {
		t.Errorf("markdown:\n%s", md)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(mustRun(t, "", "report", "--data", data, "-o", "json", "--section", "access")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Access == nil || len(r.Access.Tokens) == 0 || r.Performance != nil {
		t.Fatalf("json report %+v", r)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if secret := strings.TrimSpace(string(tok)); secret == "" || strings.Contains(out+md, secret) {
		t.Error("the admin token's secret is in the report")
	}
}

func TestReportCommandRefusesBadFlags(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--since", "30d", "--from", "2026-01-01"}, "--since and --from"},
		{[]string{"report", "--since", "soon"}, `--since "soon"`},
		{[]string{"report", "--from", "2026-13-01"}, `--from "2026-13-01"`},
		{[]string{"report", "--section", "weather"}, `section "weather"`},
		{[]string{"projects", "-o", "markdown"}, `--output "markdown"`},
		{[]string{"report", "--from", "2026-10-01", "--to", "2026-09-01"}, "--from 2026-10-01 is not before --to 2026-09-01"},
		{[]string{"report", "--since", "1d", "--to", "2020-01-01"}, "--since 1d is not before --to 2020-01-01"},
	} {
		_, errs, code := runVault(t, "", append(c.args, "--data", data)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s; want exit 2 and %s", c.args, code, errs, c.want)
		}
	}
}

// TestReportOfAnUnknownProject: as 'phoenix deployments --project nope',
// the report of a project that does not exist is an error naming it, exit
// 1, not an empty report.
func TestReportOfAnUnknownProject(t *testing.T) {
	t.Setenv("PHOENIX_MASTER_KEY", "")
	out, errs, code := runVault(t, "", "report", "--data", t.TempDir(), "--project", "nope")
	if code != 1 || out != "" || !strings.Contains(errs, `error: no project "nope"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
