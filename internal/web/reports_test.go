package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestReportsPage: an admin's report page shows every section from the
// API's report, a viewer's leaves the access review and the audit section
// out and says why; bad input is a clear 400; the nav links the page.
func TestReportsPage(t *testing.T) {
	f, b, _, _, _ := seeded(t)
	resp, page := b.get("/ui/reports?from=7d")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{`href="/ui/reports" aria-current="page"`, "<h2>Performance</h2>", "<h2>Delivery</h2>",
		"<h2>Access review: users</h2>", "<h2>Audit</h2>", "deploy.activate", `value="7d"`} {
		if !strings.Contains(page, want) {
			t.Errorf("admin's report lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=\"") || strings.Contains(page, " onclick=") {
		t.Error("the report page has inline script or style (CSP)")
	}
	if resp, page := b.get("/ui/reports?sections=weather"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `section &#34;weather&#34;`) {
		t.Errorf("bad section: %d\n%s", resp.StatusCode, page)
	}
	f.addUser("rita", "viewer", "viewer-password-2")
	vb := f.browser()
	vb.mustLogin("rita", "viewer-password-2")
	_, page = vb.get("/ui/reports")
	if strings.Contains(page, "Access review") || !strings.Contains(page, "needs the users.manage permission") {
		t.Errorf("viewer's report page:\n%s", page)
	}
}
