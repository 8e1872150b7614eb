package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/report"
)

// reportMatrix is the report's row: every reader gets a report (what it
// holds depends on the caller, see TestReportSectionsFollowPermissions).
func reportMatrix() []matrixCase {
	return []matrixCase{
		{"report", "GET /api/v1/report", fixed("/api/v1/report?from=7d&sections=performance,delivery,access", nil), readers, 200},
	}
}

// TestReportSectionsFollowPermissions: an admin gets the access review
// and the audit section; a viewer gets neither, with notes saying why;
// no token secret or password hash is in any answer.
func TestReportSectionsFollowPermissions(t *testing.T) {
	f := newFixture(t)
	get := func(who string) (map[string]json.RawMessage, []byte) {
		t.Helper()
		code, body, _ := f.call(who, "GET", "/api/v1/report?from=30d", nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", who, code, body)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m, body
	}
	admin, body := get("admin")
	if admin["access"] == nil || admin["audit"] == nil || admin["delivery"] == nil || admin["performance"] == nil {
		t.Fatalf("admin's report lacks sections: %s", body)
	}
	var acc report.Access
	if err := json.Unmarshal(admin["access"], &acc); err != nil || len(acc.Tokens) == 0 || len(acc.Users) == 0 {
		t.Fatalf("access review: %v %s", err, admin["access"])
	}
	viewer, vbody := get("viewer")
	if viewer["access"] != nil {
		t.Fatalf("a viewer got the access review: %s", viewer["access"])
	}
	if !strings.Contains(string(viewer["notes"]), "users.manage") {
		t.Errorf("no note on the missing access review: %s", viewer["notes"])
	}
	for who, b := range map[string][]byte{"admin": body, "viewer": vbody} {
		for name, tok := range f.tokens {
			if tok != "" && strings.Contains(string(b), tok) {
				t.Errorf("%s's report holds %s's token secret", who, name)
			}
		}
		if strings.Contains(string(b), "$argon2") {
			t.Errorf("%s's report holds a password hash", who)
		}
	}
}

func TestReportRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ query, want string }{
		{"from=yesterday", `from \"yesterday\"`},
		{"from=2026-11-02&to=2026-11-01", "from 2026-11-02 is not before to 2026-11-01"},
		{"from=2099-01-01", "from 2099-01-01 is not before to (default 20"},
		{"sections=performance,weather", `section \"weather\"`},
		{"from=900d", "longer than 400 days"},
	} {
		code, body, _ := f.call("admin", "GET", "/api/v1/report?"+c.query, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 with %s", c.query, code, body, c.want)
		}
	}
}

// TestReportOfAnUnknownProject: a project never deployed nor released is
// not found (an empty report would look like a quiet month); one only
// released, never deployed, has a report.
func TestReportOfAnUnknownProject(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.call("admin", "GET", "/api/v1/report?project=nope", nil)
	if code != http.StatusNotFound || !strings.Contains(string(body), `no project \"nope\"`) {
		t.Fatalf("report of an unknown project: %d %s", code, body)
	}
	if code, body, _ := f.call("admin", "GET", "/api/v1/report?project=shop", nil); code != http.StatusOK {
		t.Fatalf("report of shop: %d %s", code, body)
	}
	dir := f.project(t.TempDir(), "released", "project: {name: released}\nenvironments: {staging: {}}\n"+
		"pipeline: {stages: [{name: main, steps: [{name: ok, run: \"true\"}]}]}\n")
	f.run(dir, "staging")
	if code, body, _ := f.call("admin", "GET", "/api/v1/report?project=released&sections=delivery", nil); code != http.StatusOK {
		t.Fatalf("report of a project only released: %d %s", code, body)
	}
}

// TestTheReportLeavesOutRunsTheCallerMayNotSee: the report's release
// counts and security picks hold only the release runs the caller may see:
// a reader of staging alone does not get the staging-then-production
// release (its id, status and gate results).
func TestTheReportLeavesOutRunsTheCallerMayNotSee(t *testing.T) {
	f := newFixture(t)
	_, both := f.releaseBoth()
	get := func(who string) report.Report {
		t.Helper()
		status, out, _ := f.call(who, "GET", "/api/v1/report?project=shop&from=1d&sections=delivery,security", nil)
		var rep report.Report
		if status != http.StatusOK || json.Unmarshal(out, &rep) != nil || rep.Delivery == nil || rep.Security == nil {
			t.Fatalf("%s's report: %d %s", who, status, out)
		}
		return rep
	}
	picked := func(rep report.Report) []int64 {
		var out []int64
		for _, r := range rep.Security.Releases {
			if r.Run != 0 {
				out = append(out, r.Run)
			}
		}
		return out
	}
	admin, contractor := get("admin"), get("contractor")
	if admin.Delivery.Releases != 2 || !slices.Equal(picked(admin), []int64{both}) {
		t.Fatalf("admin: %d releases, runs %v; want 2 and the newest, %d", admin.Delivery.Releases, picked(admin), both)
	}
	if contractor.Delivery.Releases != 1 || !slices.Equal(picked(contractor), []int64{f.done}) {
		t.Errorf("contractor: %d releases, runs %v; want 1 and the staging one, %d", contractor.Delivery.Releases, picked(contractor), f.done)
	}
}
