package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
)

// replicaAlert evaluates the leader's rules once and returns the built-in
// replica-down alert of the replica advertised at url (State inactive when
// there is none).
func replicaAlert(t *testing.T, leader *App, url string) monitor.Alert {
	t.Helper()
	return alertByID(t, leader, monitor.ReplicaRule+"@"+monitor.ReplicaInstance(url))
}

// closedAddr is a loopback address nothing listens on any more.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ackReplicaAlert acknowledges the alert id through the leader's API as
// the admin: the id holds the replica's URL (its '/' escaped in the path),
// and the alert is the server's (env.write on the server).
func ackReplicaAlert(t *testing.T, leader *App, id string) {
	t.Helper()
	tok, err := ReadToken(leader.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", leader.APIURL()+"/api/v1/alerts/"+neturl.PathEscape(id)+"/ack",
		strings.NewReader(`{"comment": "looking at the replica"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var al monitor.Alert
	if err := json.NewDecoder(resp.Body).Decode(&al); resp.StatusCode != 200 || err != nil || al.Ack == nil {
		t.Fatalf("acknowledging %s: %d %+v %v", id, resp.StatusCode, al, err)
	}
}

// TestReplicaDownAlerts: with two replicas on one PostgreSQL and no rule
// written, the leader's monitor fires replica-down@replica:URL when the
// follower's own edge has failed its self-check for more than two polls,
// and resolves it when the edge answers again; a clean stop is no outage
// (nothing fires however long it lasts); a replica gone silent without
// one (killed) fires, and resolves when it publishes again.
func TestReplicaDownAlerts(t *testing.T) {
	// Not parallel: the follower's broken edge is a port closed again
	// (closedAddr), which a server of a test running meanwhile may take.
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	url := follower.advertise()
	if a := replicaAlert(t, leader, url); a.State != monitor.StateInactive {
		t.Fatalf("a healthy replica's alert: %+v", a)
	}

	broken := closedAddr(t)
	follower.self.probeAddr.Store(&broken)
	failed := time.Now()
	eventually(t, "the follower's failing edge fires its alert", func() bool {
		return replicaAlert(t, leader, url).State == monitor.StateFiring
	})
	if took := time.Since(failed); took < 2*replicaPoll {
		t.Fatalf("fired %v after the edge began failing, before two polls (%v)", took, 2*replicaPoll)
	}
	a := replicaAlert(t, leader, url)
	if !strings.Contains(a.Summary, "own edge") || !monitor.ServerInstance(a.Environment) {
		t.Errorf("alert %+v", a)
	}
	ackReplicaAlert(t, leader, a.ID)
	for _, s := range replicasOf(t, leader) {
		if s.Replica == url && (s.EdgeOK || !strings.Contains(s.EdgeErr, broken)) {
			t.Errorf("GET /api/v1/replicas: %+v", s)
		}
	}
	if a := replicaAlert(t, leader, leader.advertise()); a.State != monitor.StateInactive {
		t.Errorf("the healthy leader's alert: %+v", a)
	}
	follower.self.probeAddr.Store(nil)
	eventually(t, "the follower's edge answers again and the alert resolves", func() bool {
		return replicaAlert(t, leader, url).State == monitor.StateResolved
	})

	// A clean stop: still no alert once it is older than three polls.
	follower.Stop(ctx)
	eventually(t, "the stopped follower's last heartbeat is older than stale", func() bool {
		for _, s := range replicasOf(t, leader) {
			if s.Replica == url {
				return s.State == ReplicaStopped && time.Since(s.Seen) > leader.staleAfter()
			}
		}
		return false
	})
	if a := replicaAlert(t, leader, url); a.State != monitor.StateResolved {
		t.Fatalf("a cleanly stopped replica's alert: %+v", a)
	}

	// What a killed replica leaves: its last heartbeat, never marked stopped.
	if _, err := leader.DB.ExecContext(ctx, `UPDATE replicas SET stopped = 0 WHERE replica = $1`, url); err != nil {
		t.Fatal(err)
	}
	a = replicaAlert(t, leader, url)
	if a.State != monitor.StateFiring || !strings.Contains(a.Summary, "no heartbeat") {
		t.Fatalf("a silent replica's alert: %+v", a)
	}
	// It publishes again (its heartbeat, as its restart writes it).
	if _, err := leader.DB.ExecContext(ctx, `UPDATE replicas SET seen = $1 WHERE replica = $2`, time.Now().UnixMilli(), url); err != nil {
		t.Fatal(err)
	}
	if a := replicaAlert(t, leader, url); a.State != monitor.StateResolved {
		t.Fatalf("a replica publishing again: %+v", a)
	}
}

// TestReplicaBehindAlert: a replica that cannot fetch the active release
// (the bucket lacks its blob: not synced) answers its site 404 while its
// own edge answers its self-check; GET /api/v1/replicas lists the
// environment under behind, and the leader fires replica-down for it
// after two polls; once the blob is back it serves the release, and the
// alert resolves.
func TestReplicaBehindAlert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := newReplicaSet(t)
	leader := rs.start(t)
	const body = "<title>one</title>"
	d := deployPage(t, leader, "production", body)
	if err := rs.bucket(t).Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	follower := rs.start(t)
	if leaderOf(t, leader, follower) != leader {
		t.Fatal("the replica started second leads")
	}
	url := follower.advertise()
	if code, _ := edgeGet(t, follower, "production", "/"); code != http.StatusServiceUnavailable {
		t.Fatalf("the follower serves a release it cannot fetch: %d, want 503", code)
	}
	eventually(t, "the leader fires the follower's alert", func() bool {
		return replicaAlert(t, leader, url).State == monitor.StateFiring
	})
	if took := time.Since(began); took < 2*replicaPoll {
		t.Fatalf("fired %v after the follower started, before two polls (%v)", took, 2*replicaPoll)
	}
	if a := replicaAlert(t, leader, url); !strings.Contains(a.Summary, "active release") {
		t.Errorf("alert %+v", a)
	}
	if a := replicaAlert(t, leader, leader.advertise()); a.State != monitor.StateInactive {
		t.Errorf("the leader's alert: %+v", a)
	}
	for _, s := range replicasOf(t, leader) {
		_, behind := s.Behind["production.shop"]
		if behind != (s.Replica == url) || !s.EdgeOK {
			t.Errorf("GET /api/v1/replicas: %+v", s)
		}
	}

	if err := rs.bucket(t).Put(ctx, d, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the follower serves the release", pageIs(t, follower, "production", body))
	eventually(t, "the alert resolves", func() bool { return replicaAlert(t, leader, url).State == monitor.StateResolved })
	for _, s := range replicasOf(t, leader) {
		if len(s.Behind) != 0 {
			t.Errorf("a replica still behind: %+v", s)
		}
	}
}
