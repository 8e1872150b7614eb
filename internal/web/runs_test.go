package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

const contractorPW = "contractor-password-1"

// TestRunPageShowsEveryStepsLog: the run page shows the log lines of
// every step, not only the first one the API wrote before a flush the
// in-process call could not do.
func TestRunPageShowsEveryStepsLog(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	id := f.releaseWith(`project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: build
      steps: [{name: compile, run: "echo compiled-one; echo compiled-two"}]
    - name: test
      steps: [{name: unit, run: "echo unit-passed"}, {name: lint, run: "echo lint-clean"}]
`, "v5.0.0")
	f.waitRun(id, pipeline.Succeeded)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/ui/runs/" + strconv.FormatInt(id, 10))
	var missing []string
	for _, want := range []string{"build/compile | compiled-one", "build/compile | compiled-two",
		"test/unit | unit-passed", "test/lint | lint-clean"} {
		if !strings.Contains(page, want) {
			missing = append(missing, want)
		}
	}
	if missing != nil {
		t.Errorf("no %q on the run page:\n%s", missing, page)
	}
	if logs := f.logs.String(); strings.Contains(logs, "run logs") {
		t.Errorf("the server warned about the run's logs:\n%s", logs)
	}
}

// TestAStagingReaderSeesNoProductionRunOnTheDashboard: a user who may
// read only staging finds the staging release on the runs page and the
// overview, not the release to production, whose own page is "not
// found" like a run that never was (its log not shown).
func TestAStagingReaderSeesNoProductionRunOnTheDashboard(t *testing.T) {
	f := newFixture(t)
	f.addUserGrants("contractor", contractorPW, auth.Grant{Role: auth.RoleViewer, Project: "shop", Environment: "staging"})
	yaml := `project: {name: shop}
environments: {staging: {}, production: {}}
release: {environments: [%s]}
pipeline:
  stages:
    - name: main
      steps: [{name: hello, run: "echo hello %s"}]
`
	staged := f.releaseWith(fmt.Sprintf(yaml, "staging", "staging"), "v1.0.0")
	shipped := f.releaseWith(fmt.Sprintf(yaml, "production", "production-secret-plans"), "v1.0.1")
	b := f.browser()
	b.mustLogin("contractor", contractorPW)
	link := func(id int64) string { return `href="/ui/runs/` + strconv.FormatInt(id, 10) + `"` }
	for _, path := range []string{"/ui/runs", "/"} {
		_, page := b.get(path)
		if !strings.Contains(page, link(staged)) || strings.Contains(page, link(shipped)) {
			t.Errorf("%s: want run %d listed and not run %d:\n%s", path, staged, shipped, page)
		}
	}
	resp, page := b.get("/ui/runs/" + strconv.FormatInt(shipped, 10))
	if resp.StatusCode != http.StatusNotFound || strings.Contains(page, "production-secret-plans") {
		t.Errorf("the production run's page: %d\n%s", resp.StatusCode, page)
	}
	resp, missing := b.get("/ui/runs/999999")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(missing, "no run 999999") ||
		!strings.Contains(page, "no run "+strconv.FormatInt(shipped, 10)) {
		t.Errorf("a missing run's page (%d) and the hidden one's differ:\n%s\n%s", resp.StatusCode, missing, page)
	}
	if resp, _ := b.get("/ui/runs/" + strconv.FormatInt(staged, 10)); resp.StatusCode != http.StatusOK {
		t.Errorf("the staging run's page: %d", resp.StatusCode)
	}
}

// TestRunLogWithoutTerminalColours: a step's coloured output shows as its
// text, without the escape sequences ("[31m") a terminal would hide, and
// its markup stays text.
func TestRunLogWithoutTerminalColours(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	id := f.releaseSteps("v5.1.0", `        - name: hello
          run: |
            printf '\033[1;31mred <b>bold</b>\033[0m \033]8;;https://x.example\007link\033]8;;\007 done\n'
`)
	if d := f.waitRun(id, pipeline.Succeeded, pipeline.Failed); d.Status != pipeline.Succeeded {
		t.Fatalf("run: %s %s", d.Status, d.Message)
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/ui/runs/" + strconv.FormatInt(id, 10))
	if !strings.Contains(page, "red &lt;b&gt;bold&lt;/b&gt; link done") || strings.ContainsAny(page, "\x1b\x07") || strings.Contains(page, "[0m") {
		t.Errorf("the log with colours:\n%s", page)
	}
}

// TestRunPageShowsTheEndOfAHugeLog: a run's log longer than what one
// in-process answer may hold (16 MiB; each step's is capped at that, two
// are more) still shows its real end, from a whole line, marked as only
// the end; before, it showed the end of its first 16 MiB.
func TestRunPageShowsTheEndOfAHugeLog(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	id := f.releaseSteps("v5.2.0", `        - {name: first, run: "seq 1 1300000"}
        - {name: hello, run: "seq 1 1300000; echo END-OF-LOG", needs: [first]}
`)
	if d := f.waitRun(id, pipeline.Succeeded, pipeline.Failed); d.Status != pipeline.Succeeded {
		t.Fatalf("run: %s %s", d.Status, d.Message)
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/ui/runs/" + strconv.FormatInt(id, 10))
	log := page[strings.Index(page, `<pre class="log"`):]
	if !strings.Contains(log, "main/hello | 1300000\nmain/hello | END-OF-LOG") || !strings.Contains(page, "Only the end of the log is shown") ||
		!strings.HasPrefix(log, "<pre class=\"log\" tabindex=\"0\">main/hello | ") || len(log) > 300<<10 {
		t.Errorf("the end of a huge log: %d bytes shown, starting %q, ending %q", len(log), log[:min(len(log), 80)], log[max(0, strings.Index(log, "</pre>")-200):strings.Index(log, "</pre>")])
	}
}
