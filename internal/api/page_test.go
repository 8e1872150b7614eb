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
	if status, _, _ := f.call("admin", "GET", "/api/v1/audit?cursor=bogus", nil); status != 400 {
		t.Fatalf("bad cursor = %d", status)
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
