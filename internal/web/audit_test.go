package web_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/vault"
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

// TestAuditPageSealedTail: on a server started sealed, whose audit key is
// in the vault, the audit page says how many records are not signed yet
// and that unsealing signs them; after the unseal the notice is gone and a
// checkpoint covers every record.
func TestAuditPageSealedTail(t *testing.T) {
	dir := t.TempDir()
	kdf := vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	first := newFixtureOpts(t, func(o *app.Options) {
		o.DataDir, o.MasterKey, o.VaultKDF = dir, vault.SecretString(masterKey), kdf
	})
	first.addUser("admin", "", adminPW)
	first.a.Stop(context.Background())

	f := newFixtureOpts(t, func(o *app.Options) { o.DataDir, o.VaultKDF = dir, kdf }) // sealed
	b := f.browser()
	b.mustLogin("admin", adminPW) // records auth.login, unsigned
	_, page := b.get("/ui/audit")
	m := regexp.MustCompile(`(\d+) record\(s\) after the newest checkpoint \(records (\d+) to (\d+)\) are not signed yet: the vault is sealed`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "phoenix vault unseal") || !strings.Contains(page, `badge warn">deferred`) {
		t.Fatalf("the sealed tail is not shown:\n%s", page)
	}
	n, _ := strconv.Atoi(m[1])
	from, _ := strconv.Atoi(m[2])
	to, _ := strconv.Atoi(m[3])
	if n < 1 || to-from+1 != n {
		t.Fatalf("tail %d records, from %d to %d", n, from, to)
	}

	if err := f.admin.Do(context.Background(), "POST", client.Path("vault", "unseal"), api.VaultKeyRequest{MasterKey: masterKey}, nil); err != nil {
		t.Fatal(err)
	}
	_, page = b.get("/ui/audit")
	if strings.Contains(page, "not signed yet") || strings.Contains(page, ">deferred<") || !strings.Contains(page, "signed checkpoint(s) check out") {
		t.Fatalf("after the unseal the page still reports a sealed tail:\n%s", page)
	}
}

// TestAuditSinceLinksKeepTheFilters: "Since: 24 hours" on a page filtered
// by actor and action keeps those filters and the order; before, it
// showed every record of the day.
func TestAuditSinceLinksKeepTheFilters(t *testing.T) {
	_, b, _, _, _ := seeded(t)
	_, page := b.get("/ui/audit?actor=admin&action=deploy.%2A&order=asc&since=7d")
	for _, want := range []string{
		`href="/ui/audit?action=deploy.%2a&amp;actor=admin&amp;order=asc&amp;since=24h">24 hours</a>`,
		`href="/ui/audit?action=deploy.%2a&amp;actor=admin&amp;order=asc">the beginning</a>`,
	} {
		if !strings.Contains(strings.ToLower(page), strings.ToLower(want)) {
			t.Errorf("no link %s:\n%s", want, page)
		}
	}
}

// TestAuditVerifiesOnTheFirstPageOnly: the chain verification, which
// reads every record of the log, runs on the first page; paging on does
// not run it again each time, and links back to its verdict.
func TestAuditVerifiesOnTheFirstPageOnly(t *testing.T) {
	_, b, _, _, _ := seeded(t)
	_, page := b.get("/ui/audit?limit=3&actor=admin")
	if !strings.Contains(page, "The hash chain of all") {
		t.Fatalf("no verdict on the first page:\n%s", page)
	}
	next := regexp.MustCompile(`href="(/ui/audit\?[^"]+)" rel="next"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no next page link")
	}
	_, page = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if strings.Contains(page, "The hash chain of all") || !strings.Contains(page, `<a href="/ui/audit?actor=admin&amp;limit=3">first page</a>`) {
		t.Fatalf("the second page verifies again, or has no link to the verdict:\n%s", page)
	}
}
