package web_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TestOverviewShowsReplicas: the overview lists the replicas' heartbeats
// (state, leader, own edge's health and error, what each serves), and has
// no such section on a lone server.
func TestOverviewShowsReplicas(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	if _, page := b.get("/"); strings.Contains(page, `id="replicas-h"`) {
		t.Fatalf("a lone server shows replicas:\n%s", page)
	}
	// Heartbeats since this server started (one from before it is not
	// its replica: it holds the database alone).
	now := time.Now()
	for _, r := range []struct {
		name           string
		seen, stopped  int64 // unix ms; stopped 0: running
		leader, edgeOK int
		edgeErr        string
	}{
		{"http://10.0.0.5:7070", now.UnixMilli(), 0, 1, 1, ""},
		{"http://10.0.0.6:7070", now.UnixMilli(), now.UnixMilli(), 0, 0, "the edge at 10.0.0.6:8080 does not answer"},
		{"http://10.0.0.7:7070", now.Add(-time.Hour).UnixMilli(), 0, 0, 1, ""},
	} {
		_, err := f.a.DB.ExecContext(context.Background(), `INSERT INTO replicas (replica, boot, started, seen, stopped, leader, edge_ok, edge_error, served)
			VALUES ($1, 'b', $2, $3, $4, $5, $6, $7, '{"production.shop": 3}')`, r.name, now.Add(-2*time.Hour).UnixMilli(), r.seen,
			r.stopped, r.leader, r.edgeOK, r.edgeErr)
		if err != nil {
			t.Fatal(err)
		}
	}
	_, page := b.get("/")
	i := strings.Index(page, `id="replicas-h"`)
	if i < 0 {
		t.Fatalf("no replicas section:\n%s", page)
	}
	section := page[i:]
	section = section[:strings.Index(section, "</section>")]
	rows := strings.Split(section, "<tr>")
	if len(rows) != 4 { // before the header, the header, two replicas (not 10.0.0.7, seen before the start)
		t.Fatalf("replica rows:\n%s", section)
	}
	for i, want := range [][]string{
		{"http://10.0.0.5:7070", ">up<", "leader", ">ok<", "shop/production #3"},
		{"http://10.0.0.6:7070", ">stopped<", "follower", ">down<", "the edge at 10.0.0.6:8080 does not answer", "shop/production #3"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[i+2], w) {
				t.Errorf("replica row %d lacks %q:\n%s", i, w, rows[i+2])
			}
		}
	}
}

// TestReplicasShowOnlyReadableEnvironments: what a replica serves and is
// behind on lists only the environments the user may read; a reader of
// staging learns nothing of production there either.
func TestReplicasShowOnlyReadableEnvironments(t *testing.T) {
	f := newFixture(t)
	f.addUserGrants("contractor", contractorPW, auth.Grant{Role: auth.RoleViewer, Project: "shop", Environment: "staging"})
	now := time.Now().UnixMilli()
	_, err := f.a.DB.ExecContext(context.Background(), `INSERT INTO replicas (replica, boot, started, seen, stopped, leader, edge_ok, edge_error, served, behind)
		VALUES ('http://10.0.0.5:7070', 'b', $1, $1, 0, 1, 1, '', '{"production.shop": 3, "staging.shop": 2}', $2)`, now,
		`{"production.shop": `+strconv.FormatInt(now, 10)+`}`)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.mustLogin("contractor", contractorPW)
	_, page := b.get("/")
	if !strings.Contains(page, "shop/staging #2") || strings.Contains(page, "production") {
		t.Fatalf("a staging reader's replicas:\n%s", page)
	}
	var reps []struct {
		Serves map[string]int64  `json:"serves"`
		Behind map[string]string `json:"behind"`
	}
	_, body := b.get("/api/v1/replicas")
	if err := json.Unmarshal([]byte(body), &reps); err != nil || len(reps) != 1 || len(reps[0].Serves) != 1 || len(reps[0].Behind) != 0 {
		t.Fatalf("GET /api/v1/replicas as a staging reader: %v\n%s", err, body)
	}
}
