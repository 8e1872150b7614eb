package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
)

// TestPagination walks every paged list with small pages and checks that
// the pages together hold each item exactly once.
func TestPagination(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, path, key string
	}{
		{"audit", "/api/v1/audit", "seq"},
		{"audit newest first", "/api/v1/audit?order=desc", "seq"},
		{"users", "/api/v1/users", "name"},
		{"tokens", "/api/v1/tokens?all=true", "id"},
		{"deployments", "/api/v1/projects/shop/environments/staging/deployments", "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, whole, _ := f.call("admin", "GET", c.path+sep(c.path)+"limit=1000", nil)
			var all Page[map[string]any]
			json.Unmarshal(whole, &all)
			seen := map[string]int{}
			cursor, pages := "", 0
			for {
				path := c.path + sep(c.path) + "limit=1"
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				status, body, _ := f.call("admin", "GET", path, nil)
				var p Page[map[string]any]
				if err := json.Unmarshal(body, &p); err != nil || status != 200 || len(p.Items) > 1 {
					t.Fatalf("page %d: %d %s", pages, status, body)
				}
				for _, it := range p.Items {
					seen[fmt.Sprint(it[c.key])]++
				}
				pages++
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			if len(all.Items) < 2 || len(seen) != len(all.Items) || pages < 2 {
				t.Fatalf("%d pages held %d distinct items; the whole list has %d", pages, len(seen), len(all.Items))
			}
			for k, n := range seen {
				if n != 1 {
					t.Fatalf("item %s on %d pages", k, n)
				}
			}
		})
	}
	for _, bad := range []string{"cursor=bogus", "order=desc&cursor=0", "order=sideways"} {
		if status, _, _ := f.call("admin", "GET", "/api/v1/audit?"+bad, nil); status != 400 {
			t.Fatalf("%s = %d", bad, status)
		}
	}
}

// TestAuditNewestFirst: order=desc lists the newest records first, page by
// page back in time, and filters apply as oldest first.
func TestAuditNewestFirst(t *testing.T) {
	f := newFixture(t)
	seqs := func(path string) ([]int64, string) {
		t.Helper()
		status, body, _ := f.call("admin", "GET", path, nil)
		var p Page[struct {
			Seq    int64  `json:"seq"`
			Action string `json:"action"`
		}]
		if err := json.Unmarshal(body, &p); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var out []int64
		for _, r := range p.Items {
			out = append(out, r.Seq)
		}
		return out, p.NextCursor
	}
	asc, _ := seqs("/api/v1/audit?limit=1000")
	first, next := seqs("/api/v1/audit?order=desc&limit=3")
	n := len(asc)
	if n < 6 || len(first) != 3 || first[0] != asc[n-1] || first[2] != asc[n-3] || next != fmt.Sprint(asc[n-3]) {
		t.Fatalf("newest page %v (cursor %s); all: %v", first, next, asc)
	}
	second, _ := seqs("/api/v1/audit?order=desc&limit=3&cursor=" + next)
	if len(second) != 3 || second[0] != asc[n-4] {
		t.Fatalf("second newest page %v", second)
	}
	deploys, _ := seqs("/api/v1/audit?order=desc&action=deploy.*")
	ascDeploys, _ := seqs("/api/v1/audit?action=deploy.*")
	if len(deploys) == 0 || len(deploys) != len(ascDeploys) || deploys[0] != ascDeploys[len(ascDeploys)-1] {
		t.Fatalf("filtered newest first %v, oldest first %v", deploys, ascDeploys)
	}
}

func sep(path string) string {
	for _, c := range path {
		if c == '?' {
			return "&"
		}
	}
	return "?"
}
