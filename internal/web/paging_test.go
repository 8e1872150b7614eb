package web_test

import (
	"context"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

var olderRuns = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older runs</a>`)

// TestRunsPagedAndEveryProjectsLastRun: with more runs than a page (a
// busy project's), the runs page links to the older ones, page by page,
// and the overview still shows the last run of a quiet project whose run
// is older than the newest 50.
func TestRunsPagedAndEveryProjectsLastRun(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	ctx := context.Background()
	if err := f.a.Deploy.EnsureEnvironment(ctx, "blog", deploy.EnvSpec{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	quiet := f.releaseWith("project: {name: blog}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: main\n"+
		"      steps: [{name: hello, run: \"echo hello\"}]\n", "v1.0.0")
	f.waitRun(quiet, pipeline.Succeeded)
	for i := range 60 { // a busy project's runs, as the pipeline stores them
		_, err := f.a.DB.ExecContext(ctx, `INSERT INTO pipeline_runs (project, kind, version, environments, dir, plan, status, created_at)
			VALUES ('shop', 'release', $1, 'production', '/tmp', '{"name": "release", "steps": []}', 'succeeded', $2)`,
			"v2.0."+strconv.Itoa(i), time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			t.Fatal(err)
		}
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/")
	if !strings.Contains(page, `Project <strong>blog</strong> · last run <a href="/ui/runs/`+strconv.FormatInt(quiet, 10)+`">`) {
		t.Fatalf("the overview lacks blog's last run #%d:\n%s", quiet, page)
	}
	seen, path := map[string]bool{}, "/ui/runs"
	for pages := 0; path != ""; pages++ {
		resp, page := b.get(path)
		if resp.StatusCode != 200 || pages > 3 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, m := range strings.Split(page, `<th scope="row"><a href="/ui/runs/`)[1:] {
			seen[m[:strings.Index(m, `"`)]] = true
		}
		path = ""
		if m := olderRuns.FindStringSubmatch(page); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 61 || !seen[strconv.FormatInt(quiet, 10)] {
		t.Fatalf("the runs pages list %d runs, want 61 with #%d", len(seen), quiet)
	}
}
