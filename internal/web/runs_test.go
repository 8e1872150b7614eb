package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

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
