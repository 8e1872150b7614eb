package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/webhook"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// alertHook is a webhook receiver on 127.0.0.1 that passes on every
// deploy.rolled_back and deploy.failed delivered to it as "EVENT ID".
type alertHook struct {
	*httptest.Server
	got chan string
}

func newAlertHook(t *testing.T) *alertHook {
	h := &alertHook{got: make(chan string, 8)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if ev := r.Header.Get(webhook.EventHeader); ev == "deploy.rolled_back" || ev == "deploy.failed" {
			h.got <- ev + " " + r.Header.Get(webhook.DeliveryHeader)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// owedAs is how alertHook shows the alert an automatic rollback of
// deployment failed to restored (0: none) owes when sent late.
func owedAs(failed, restored int64) string {
	m := owedMessage(deploy.OwedAlert{Failed: deploy.Deployment{ID: failed}, Restored: deploy.Deployment{ID: restored}})
	return m.Event + " " + m.ID
}

// hookYAML is shop's phoenix.yaml with one webhook channel, to url, and
// a release pipeline of one step that succeeds.
func hookYAML(url string) string {
	return "version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n" +
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"" + url + "\"}\n" +
		"pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: compile, run: exit 0}\n"
}

// deliveries returns the states of the delivery log's rows of message
// id in the stopped server's data dir.
func deliveries(t *testing.T, dir, id string) []string {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT state FROM notify_deliveries WHERE message_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// startWithHook starts a server that verifies in 200 ms, with shop's
// channels (hookYAML) to a new alertHook, once its start's pass of
// resumeVerifications is over.
func startWithHook(t *testing.T, log ...*testkit.LogBuffer) (*App, *alertHook) {
	t.Helper()
	hook := newAlertHook(t)
	h := newVerifyHooks(false)
	o := Options{DataDir: t.TempDir(), VerifySoak: 200 * time.Millisecond, Proc: "-"}
	if len(log) > 0 {
		o.Logger = slog.New(slog.NewTextHandler(log[0], nil))
	}
	a := startHooked(t, o, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	cfg, err := config.Parse([]byte(hookYAML(hook.URL)), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a.useConfig("shop", cfg, nil)
	return a, hook
}

// TestRollbackAlertIsSettled: a failed verification with nothing to roll
// back to, and one rolled back, send their critical alerts with the event
// and id the alert owed for each would have (so one queued before a crash
// is not queued again after it), and owe nothing once they are queued.
func TestRollbackAlertIsSettled(t *testing.T) {
	t.Parallel()
	a, hook := startWithHook(t)
	alone := deploySite(t, a, "production", "v0", "", noHomePage)
	a.projects.wait()
	good := deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	bad := deploySite(t, a, "production", "v2", "", noHomePage)
	a.projects.wait()
	for _, want := range []string{owedAs(alone, 0), owedAs(bad, good)} {
		if got := recv(t, hook.got, "an alert"); got != want {
			t.Fatalf("the Guard sent %q, want %q (as an owed alert)", got, want)
		}
	}
	if owed, err := a.Deploy.OwedAlerts(context.Background()); err != nil || len(owed) != 0 {
		t.Fatalf("owed after the alerts were queued: %+v, %v", owed, err)
	}
}

const rollbackCrashEnv = "PHOENIX_ROLLBACK_CRASH_CHILD" // data dir and webhook URL, space-separated

// TestRollbackAlertCrashChild is TestCrashAfterRollbackCommit's server:
// it releases shop (so every start loads its webhook channel from the
// run's phoenix.yaml), deploys a good v1 (a pipeline run's: not
// verified) and a broken v2, and once v2's automatic rollback has
// committed, says so and waits to be killed before the alert is queued.
// Alone it skips.
func TestRollbackAlertCrashChild(t *testing.T) {
	dir, url, ok := strings.Cut(os.Getenv(rollbackCrashEnv), " ")
	if !ok {
		t.Skip("a child of TestCrashAfterRollbackCommit")
	}
	a := startHooked(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"}, func(a *App) {
		a.rollbackCommitted = func(failed int64) {
			os.Stdout.WriteString("rolled back " + strconv.FormatInt(failed, 10) + "\n")
			select {} // until SIGKILL
		}
	})
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "phoenix.yaml"), []byte(hookYAML(url)), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: src, Version: "v1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Pipeline.Logs(context.Background(), run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	deploySite(t, a, "production", "v2", "", noHomePage)
	select {}
}

// TestCrashAfterRollbackCommit: a server killed (SIGKILL) after an
// automatic rollback committed and before its critical alert was queued
// leaves the alert owed in the database, not in the delivery log; the
// next start sends it to the project's webhook, and a start after that
// sends nothing more: delivered exactly once.
func TestCrashAfterRollbackCommit(t *testing.T) {
	t.Parallel()
	hook := newAlertHook(t)
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	failed := crashChild(t, root, "TestRollbackAlertCrashChild", rollbackCrashEnv+"="+dir+" "+hook.URL, "rolled back ", nil)
	id := fmt.Sprintf("deploy-%d-rolled-back", failed)

	owed, err := reopen(t, dir).OwedAlerts(context.Background())
	if err != nil || len(owed) != 1 || owed[0].Failed.ID != failed || !strings.Contains(owed[0].Failed.Failure, "200") {
		t.Fatalf("owed after the crash: %+v, %v; want deployment %d's", owed, err, failed)
	}
	if got := deliveries(t, dir, id); len(got) != 0 {
		t.Fatalf("the alert was queued before the crash: %v", got)
	}
	if m := owedMessage(owed[0]); !hasFacts(m.Facts, "Failed release", "Failed deployment", "Error rate", "p95", "Check ", "Now serving") {
		t.Fatalf("the late alert lacks what the verification measured: %+v", m.Facts)
	}

	h := newVerifyHooks(false)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	if got := recv(t, hook.got, "the owed alert"); got != "deploy.rolled_back "+id {
		t.Fatalf("the start sent %q, want deploy.rolled_back %s", got, id)
	}
	if owed, err := b.Deploy.OwedAlerts(context.Background()); err != nil || len(owed) != 0 {
		t.Fatalf("owed after the start sent it: %+v, %v", owed, err)
	}
	// RunDue runs one at a time: this one waits until the attempt that
	// delivered the alert has recorded it sent (a stop during that
	// attempt would leave it pending, and the next start would send it
	// again: the dispatcher delivers at least once).
	if _, err := b.Notify.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Stop(context.Background())

	h = newVerifyHooks(false)
	c := startHooked(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	c.Stop(context.Background())
	if got := deliveries(t, dir, id); len(got) != 1 || got[0] != "sent" {
		t.Fatalf("deliveries of %s: %v, want one, sent", id, got)
	}
	if len(hook.got) != 0 {
		t.Fatalf("the alert was delivered again: %s", <-hook.got)
	}
}

// hasFacts reports whether facts are named names, in that order; a name
// ending in a space names facts starting with it (one or more).
func hasFacts(facts []notify.Fact, names ...string) bool {
	i := 0
	for _, n := range names {
		start := i
		for i < len(facts) && (facts[i].Name == n || strings.HasSuffix(n, " ") && strings.HasPrefix(facts[i].Name, n)) {
			i++
			if !strings.HasSuffix(n, " ") {
				break
			}
		}
		if i == start {
			return false
		}
	}
	return i == len(facts)
}

// TestOwedMessageFacts: a late alert says what the verification measured
// (as the rollback recorded it), between what failed and what serves now,
// or what the rollback could not do; an owed row from before facts were
// recorded has none.
func TestOwedMessageFacts(t *testing.T) {
	t.Parallel()
	measured := []notify.Fact{{Name: "Error rate", Value: "12.00% of 50 requests"}, {Name: "p95", Value: "80ms"},
		{Name: "Check home", Value: "status 500"}}
	for _, c := range []struct {
		o     deploy.OwedAlert
		names []string
	}{
		{deploy.OwedAlert{Failed: deploy.Deployment{ID: 2}, Restored: deploy.Deployment{ID: 1}, Facts: measured},
			[]string{"Failed release", "Failed deployment", "Error rate", "p95", "Check ", "Now serving"}},
		{deploy.OwedAlert{Failed: deploy.Deployment{ID: 2}, Facts: measured},
			[]string{"Failed release", "Failed deployment", "Error rate", "p95", "Check ", "Rollback"}},
		{deploy.OwedAlert{Failed: deploy.Deployment{ID: 2}, Restored: deploy.Deployment{ID: 1}},
			[]string{"Failed release", "Failed deployment", "Now serving"}},
	} {
		if m := owedMessage(c.o); !hasFacts(m.Facts, c.names...) {
			t.Errorf("facts %+v, want %q", m.Facts, c.names)
		}
	}
}

// owingRollback deploys v1 and v2 to production (a pipeline run's each:
// no Guard verifies them) and takes v2 back as an automatic rollback
// does, owing its alert, which nothing queues; it returns once the
// server has reacted to the activations.
func owingRollback(t *testing.T, a *App) (v1, v2 int64) {
	t.Helper()
	v1 = deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	v2 = deploySite(t, a, "production", "v2", "pipeline run 2", noHomePage)
	if _, err := a.Deploy.Revert(context.Background(), deploy.RevertRequest{Project: "shop", Environment: "production", Failed: v2,
		Reason: "home failed", Alert: true}); err != nil {
		t.Fatal(err)
	}
	a.projects.wait() // the activations' reconfigurations are over: none undoes the test's
	return v1, v2
}

// TestYoungOwedAlertIsLeftToItsReplica: a pass that takes only alerts
// owed before a time (the replicas' leader: owed longer than
// owedAlertLease) leaves a younger one to the replica that rolled back,
// which may be queueing it; a pass without that limit queues it.
func TestYoungOwedAlertIsLeftToItsReplica(t *testing.T) {
	t.Parallel()
	a, hook := startWithHook(t)
	ctx := context.Background()
	v1, v2 := owingRollback(t, a)
	a.queueOwed(ctx, time.Now().Add(-owedAlertLease))
	if owed, err := a.Deploy.OwedAlerts(ctx); err != nil || len(owed) != 1 {
		t.Fatalf("owed after a pass for those older than the lease: %+v, %v; want it still owed", owed, err)
	}
	a.queueOwed(ctx, time.Time{})
	if got := recv(t, hook.got, "the owed alert"); got != owedAs(v2, v1) {
		t.Fatalf("sent %q, want %q", got, owedAs(v2, v1))
	}
	if owed, err := a.Deploy.OwedAlerts(ctx); err != nil || len(owed) != 0 {
		t.Fatalf("owed after it was queued: %+v, %v", owed, err)
	}
}

// TestOwedAlertWaitsForItsChannels: an owed alert no channel took
// because the project's channels did not load (the webhook URL is a
// secret the server lacks) stays owed; once they load, it is sent.
func TestOwedAlertWaitsForItsChannels(t *testing.T) {
	t.Parallel()
	var log testkit.LogBuffer
	a, hook := startWithHook(t, &log)
	ctx := context.Background()
	v1, v2 := owingRollback(t, a)
	load := func(url string) {
		t.Helper()
		cfg, err := config.Parse([]byte(hookYAML(url)), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		a.useConfig("shop", cfg, nil)
	}
	load("secret:SHOP_HOOK_URL")
	for range 3 { // every poll with replicas
		a.queueOwed(ctx, time.Time{})
	}
	if owed, err := a.Deploy.OwedAlerts(ctx); err != nil || len(owed) != 1 {
		t.Fatalf("owed while the channels do not load: %+v, %v; want it still owed", owed, err)
	}
	for _, warning := range []string{"sending it now", "no channel took the alert"} {
		if n := strings.Count(log.String(), warning); n != 1 {
			t.Errorf("%q logged %d times over three passes, want once", warning, n)
		}
	}
	load(hook.URL)
	a.queueOwed(ctx, time.Time{})
	if got := recv(t, hook.got, "the owed alert"); got != owedAs(v2, v1) {
		t.Fatalf("sent %q, want %q", got, owedAs(v2, v1))
	}
	if owed, err := a.Deploy.OwedAlerts(ctx); err != nil || len(owed) != 0 {
		t.Fatalf("owed after it was queued: %+v, %v", owed, err)
	}
}

// TestManualRollbackIsAnnounced: a rollback someone asks for (phoenix
// rollback) was announced to no channel; it sends deploy.rolled_back,
// once per rollback.
func TestManualRollbackIsAnnounced(t *testing.T) {
	t.Parallel()
	a, hook := startWithHook(t)
	first := deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	second := deploySite(t, a, "production", "v2", "pipeline run 2", goodSite)
	a.projects.wait()
	if _, err := a.Deploy.Rollback(context.Background(), "shop", "production", 0, "alice"); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("deploy.rolled_back deploy-%d-rolled-back-to-%d-", second, first)
	if got := recv(t, hook.got, "the rollback's announcement"); !strings.HasPrefix(got, want) {
		t.Fatalf("announced %q, want %q…", got, want)
	}
}

// TestUnsealLoadsTheChannels: a server whose vault is sealed (started
// without the master key, as docs/operations.md allows, or sealed since)
// cannot load channels whose URL is a secret; 'phoenix vault unseal' loads
// them, and the alert an automatic rollback owes goes out then, not at the
// next deploy or start.
func TestUnsealLoadsTheChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const master = "a master key for the unseal test"
	hook := newAlertHook(t)
	cfg, err := config.Parse([]byte(hookYAML("secret:SHOP_HOOK_URL")), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := startVault(t, t.TempDir(), master)
	if err != nil {
		t.Fatal(err)
	}
	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "SHOP_HOOK_URL", vault.SecretString(hook.URL), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	a.useConfig("shop", cfg, nil)
	v1, v2 := owingRollback(t, a) // signed and deployed while unsealed
	a.Vault.Seal()
	a.reconfigure() // as at a start without the key
	a.queueOwed(ctx, time.Time{})
	if a.channelsLoaded("shop") {
		t.Fatal("channels with a secret URL loaded while the vault is sealed")
	}
	if owed, err := a.Deploy.OwedAlerts(ctx); err != nil || len(owed) != 1 {
		t.Fatalf("owed while sealed: %+v, %v; want it still owed", owed, err)
	}
	if err := a.Vault.Unseal(ctx, vault.SecretString(master)); err != nil {
		t.Fatal(err)
	}
	if !a.channelsLoaded("shop") {
		t.Fatal("the unseal did not load the project's channels")
	}
	if got := recv(t, hook.got, "the owed alert after the unseal"); got != owedAs(v2, v1) {
		t.Fatalf("sent %q, want %q", got, owedAs(v2, v1))
	}
}
