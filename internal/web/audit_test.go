package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// auditSeqs is the record numbers of an audit page, top to bottom.
func auditSeqs(t *testing.T, page string) []int {
	t.Helper()
	var out []int
	for _, m := range regexp.MustCompile(`<tr><th scope="row">(\d+)</th>`).FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// TestAuditPageNewestFirst: the audit page starts with the newest records
// and pages back in time; ?order=asc (the "Oldest first" link) reads from
// the first record, and filters keep the chosen order.
func TestAuditPageNewestFirst(t *testing.T) {
	_, b, _, _, _ := seeded(t)
	_, page := b.get("/ui/audit?limit=3")
	newest := auditSeqs(t, page)
	if len(newest) != 3 || !slices.IsSortedFunc(newest, func(a, b int) int { return b - a }) {
		t.Fatalf("default page: %v", newest)
	}
	next := regexp.MustCompile(`href="(/ui/audit\?[^"]+)" rel="next"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no next page link")
	}
	_, page2 := b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	older := auditSeqs(t, page2)
	if len(older) != 3 || older[0] != newest[2]-1 {
		t.Fatalf("second page %v after %v", older, newest)
	}
	if !strings.Contains(page, `href="/ui/audit?limit=3&amp;order=asc">Oldest first`) {
		t.Fatalf("no link to oldest first:\n%s", page)
	}
	_, page = b.get("/ui/audit?limit=3&order=asc")
	if got := auditSeqs(t, page); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("oldest first: %v", got)
	}
	if !strings.Contains(page, `<input type="hidden" name="order" value="asc">`) {
		t.Fatal("the filter form drops the chosen order")
	}
	if resp, page := b.get("/ui/audit?order=sideways"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "order") {
		t.Fatalf("a bad order: %d", resp.StatusCode)
	}
}
