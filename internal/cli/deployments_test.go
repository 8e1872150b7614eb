package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestDeploymentsShowStatus: after two deploys and a rollback the table's
// STATUS column stars the active deployment and shows the newer one as
// rolled back, and LIVE SINCE has a time for the active one only; the
// JSON carries status and live_since, the rollback's time, after the
// active deployment's creation. --history lists the rollback and the two
// deploys, newest first, each live until the next. A rollback of an environment
// that does not exist names the command that lists them.
func TestDeploymentsShowStatus(t *testing.T) {
	t.Parallel()
	data, site := t.TempDir(), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"<title>one</title>", "<title>two</title>"} {
		if err := os.WriteFile(filepath.Join(site, "index.html"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "", "deploy", site, "--env", "staging", "--data", data, "-c", cfg)
	}
	mustRun(t, "", "rollback", "--env", "staging", "--data", data, "-c", cfg)

	out := mustRun(t, "", "deployments", "--env", "staging", "--data", data, "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID  STATUS") || !strings.Contains(lines[0], "CREATED              LIVE SINCE") ||
		!strings.Contains(lines[1], "rolled back") || !strings.Contains(lines[2], "* active") {
		t.Fatalf("table:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[len(f)-3] != "-" { // LIVE SINCE, ACTOR and MESSAGE are the last
		t.Fatalf("the rolled back deployment has a live since: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); !strings.Contains(f[len(f)-3], ":") {
		t.Fatalf("the active deployment has no live since: %q", lines[2])
	}
	var items []deploy.Deployment
	if err := json.Unmarshal([]byte(mustRun(t, "", "deployments", "--env", "staging", "-o", "json", "--data", data, "-c", cfg)), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Status != deploy.StatusRolledBack || items[1].Status != deploy.StatusActive {
		t.Fatalf("json: %+v", items)
	}
	if live := items[1].LiveSince; items[0].LiveSince != nil || live == nil || !live.After(items[0].CreatedAt) {
		t.Fatalf("json: live since %v of the active deployment (created %v), want after the newer one's creation %v; %v of the other",
			live, items[1].CreatedAt, items[0].CreatedAt, items[0].LiveSince)
	}

	// --history: the rollback, then the two deploys, each live until the next.
	out = mustRun(t, "", "deployments", "--env", "staging", "--history", "--data", data, "-c", cfg)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "LIVE FROM            LIVE FOR  ACTION") ||
		!strings.Contains(lines[1], " * ") || !strings.Contains(lines[1], "rollback") ||
		!strings.Contains(lines[1], "from deployment 2 to 1") || !strings.Contains(lines[2], "deploy") || !strings.Contains(lines[3], "deploy") ||
		strings.Contains(lines[2]+lines[3], " * ") {
		t.Fatalf("--history table:\n%s", out)
	}
	var hist []deploy.EnvActivation
	if err := json.Unmarshal([]byte(mustRun(t, "", "deployments", "--env", "staging", "--history", "--limit", "2", "-o", "json",
		"--data", data, "-c", cfg)), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Action != "rollback" || hist[0].Deployment != 1 || hist[0].Until != nil ||
		hist[1].Deployment != 2 || hist[1].Until == nil || !hist[1].Until.Equal(hist[0].At) {
		t.Fatalf("--history json: %+v", hist)
	}

	_, errs, code := runVault(t, "", "rollback", "--env", "nope", "--data", data, "-c", cfg)
	if code == 0 || !strings.Contains(errs, "hint: its environments: ") {
		t.Fatalf("rollback of an unknown environment: exit %d, %s", code, errs)
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    deploy.Deployment
		want string
	}{
		{deploy.Deployment{Active: true, Status: deploy.StatusActive}, "* active"},
		{deploy.Deployment{Status: deploy.StatusFailed, Failure: "health-check/production"}, "failed: health-check/production"},
		{deploy.Deployment{Active: true, Status: deploy.StatusActive, Failure: "health-check/production"}, "* active, failed: health-check/production"},
		{deploy.Deployment{Status: deploy.StatusRolledBack}, "rolled back"},
		{deploy.Deployment{Status: deploy.StatusInactive}, "-"},
		{deploy.Deployment{Active: true}, "* active"}, // from a server without status
		{deploy.Deployment{Active: true, Status: deploy.StatusActive, Verification: deploy.VerifyPending}, "* active, verification pending"},
		{deploy.Deployment{Active: true, Status: deploy.StatusActive, Verification: deploy.VerifyPassed}, "* active"},
		{deploy.Deployment{Active: true, Status: deploy.StatusActive, Verification: deploy.VerifyFailed}, "* active, failed verification"},
		{deploy.Deployment{Status: deploy.StatusFailed, Failure: "verification", Verification: deploy.VerifyFailed}, "failed: verification"},
		// The server's verification quotes the page it got: the cell keeps
		// its start, on one line, so the columns after it stay readable.
		{deploy.Deployment{Status: deploy.StatusFailed, Verification: deploy.VerifyFailed,
			Failure: "home failed 4 of 4: condition failed: [BODY] == pat(*Phoenix example*) (got <!doctype html><title>v1.2.0</title>\n)"},
			"failed: home failed 4 of 4: condition failed: [BODY] == pat(*Phoeni…"},
		{deploy.Deployment{Status: deploy.StatusRolledBack, Verification: deploy.VerifySuperseded}, "rolled back, not verified"},
		{deploy.Deployment{Status: deploy.StatusInactive, Verification: deploy.VerifySuperseded}, "not verified"},
		{deploy.Deployment{Status: deploy.StatusInactive, Verification: deploy.VerifyPassed}, "-"},
		{deploy.Deployment{Active: true, Status: deploy.StatusActive, Verification: deploy.VerifyByRun, Run: "12"}, "* active, run 12's health check pending"},
	} {
		if got := statusOf(c.d); got != c.want {
			t.Errorf("statusOf(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestPendingVerificationIsShown: a deployment made without a server
// (an in-process one, which stops before any verdict) stays pending
// verification, which 'phoenix deployments' and 'phoenix status' show;
// the commands' own in-process servers leave it to 'phoenix server'.
func TestPendingVerificationIsShown(t *testing.T) {
	t.Parallel()
	data, site := t.TempDir(), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<title>one</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "deploy", site, "--env", "staging", "--release", "v1", "--data", data, "-c", cfg); !strings.Contains(out, "serves it and verifies it") {
		t.Fatalf("deploy without a server:\n%s", out)
	}
	for range 2 { // the first command's server does not verify it either
		out := mustRun(t, "", "deployments", "--env", "staging", "--data", data, "-c", cfg)
		if !strings.Contains(out, "* active, verification pending") {
			t.Fatalf("deployments:\n%s", out)
		}
	}
	if out := mustRun(t, "", "status", "--data", data); !strings.Contains(out, "v1 (verification pending)") {
		t.Fatalf("status:\n%s", out)
	}
}
