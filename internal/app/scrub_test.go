package app

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// alertByID evaluates a's rules once and returns the alert id (State
// inactive when there is none).
func alertByID(t *testing.T, a *App, id string) monitor.Alert {
	t.Helper()
	ctx := context.Background()
	if err := a.Monitor.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	as, err := a.Monitor.Alerts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range as {
		if al.ID == id {
			return al
		}
	}
	return monitor.Alert{State: monitor.StateInactive}
}

// blobAlert evaluates the rules once and returns the built-in
// blob-damaged alert.
func blobAlert(t *testing.T, a *App) monitor.Alert {
	t.Helper()
	return alertByID(t, a, monitor.BlobRule+"@"+monitor.StoreInstance)
}

// TestScheduledScrubAlertsOnDamagedBlob: the server's scheduled check of
// the blob store, due a week after the last one, finds the byte a disk
// flipped in the page production serves, audits it and fires the
// blob-damaged alert naming the blob and the deployment, which goes out
// as alert.firing; once the blob is good again, the next check resolves it.
func TestScheduledScrubAlertsOnDamagedBlob(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	cfg, err := config.Parse([]byte("version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"http://127.0.0.1:9/hook\", events: [alert.firing]}\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a.useConfig("shop", cfg, nil)
	ctx := context.Background()
	d := deployPage(t, a, "production", "<title>shop</title>")
	now := time.Now()
	if !a.scrubIfDue(ctx, now) {
		t.Fatal("no check was due on a server that never checked its blob store")
	}
	if a.scrubIfDue(ctx, now.Add(DefaultScrubEvery-time.Minute)) {
		t.Fatal("a check ran again before a week had passed")
	}
	if al := blobAlert(t, a); al.State != monitor.StateInactive {
		t.Fatalf("an intact store: alert %+v", al)
	}

	path, err := a.Blobs.Path(d)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(string(good))
	bad[5] ^= 0x20
	writeBlobFile(t, path, bad)
	if !a.scrubIfDue(ctx, now.Add(DefaultScrubEvery+time.Minute)) {
		t.Fatal("no check was due a week after the last one")
	}
	al := blobAlert(t, a)
	if al.State != monitor.StateFiring || !strings.Contains(al.Summary, string(d)+" is damaged, used by shop/production deployment 1 (active)") ||
		!strings.Contains(al.Summary, "move "+path) {
		t.Fatalf("after the damage: alert %+v", al)
	}
	dels, err := a.Notify.Deliveries(ctx, "", 10)
	if err != nil || len(dels) != 1 || dels[0].Event != "alert.firing" {
		t.Fatalf("deliveries: %+v, %v; want one alert.firing", dels, err)
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "store.verify", Actor: ScrubActor, Newest: true, Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Outcome != audit.Failed || !strings.Contains(recs[0].Detail, string(d)+" damaged (used by shop/production deployment 1 (active))") {
		t.Fatalf("audit: %+v, %v", recs, err)
	}

	writeBlobFile(t, path, good)
	if !a.scrubIfDue(ctx, now.Add(2*DefaultScrubEvery+time.Minute)) {
		t.Fatal("no check was due two weeks after the first")
	}
	if al := blobAlert(t, a); al.State != monitor.StateResolved {
		t.Fatalf("after the repair: alert %+v", al)
	}
}

// writeBlobFile overwrites a blob's (read-only) file with b.
func writeBlobFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

// TestScrubInactiveDeployment: a damaged blob only a superseded (retained,
// inactive) deployment uses is reported with that deployment, marked not
// active, and audited, but fires no alert: nothing serves it now.
func TestScrubInactiveDeployment(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	ctx := context.Background()
	old := deployPage(t, a, "production", "<title>one</title>")
	deployPage(t, a, "production", "<title>two</title>")
	path, err := a.Blobs.Path(old)
	if err != nil {
		t.Fatal(err)
	}
	writeBlobFile(t, path, []byte("<title>One</title>"))
	rep, err := a.VerifyStore(ctx, "ops", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 2 || len(rep.Problems) != 1 || rep.Problems[0].Digest != old || rep.Problems[0].Problem != "damaged" ||
		len(rep.Problems[0].Deployments) != 1 || rep.Problems[0].Deployments[0].Deployment != 1 || rep.Problems[0].Deployments[0].Active {
		t.Fatalf("report %+v", rep)
	}
	if al := blobAlert(t, a); al.State != monitor.StateInactive {
		t.Fatalf("a blob no active deployment serves: alert %+v", al)
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "store.verify", Actor: "ops"})
	if err != nil || len(recs) != 1 || recs[0].Outcome != audit.Failed || !strings.Contains(recs[0].Detail, "shop/production deployment 1)") {
		t.Fatalf("audit: %+v, %v", recs, err)
	}
}

// TestScrubInterruptedIsNotALastCheck: a check cut short (the server
// stopping) is not audited, so it does not put the next scheduled check
// off by a week.
func TestScrubInterruptedIsNotALastCheck(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	deployPage(t, a, "production", "<title>one</title>")
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.VerifyStore(cut, ScrubActor, false, 0); err == nil {
		t.Fatal("a cancelled check succeeded")
	}
	if !a.scrubIfDue(context.Background(), time.Now()) {
		t.Fatal("an interrupted check put the scheduled one off")
	}
}
