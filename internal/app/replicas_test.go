package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// replicaPoll is how often the test replicas reconcile with the database.
const replicaPoll = 300 * time.Millisecond

// replicaSet is a shared PostgreSQL database and S3 bucket for replicas.
type replicaSet struct {
	dsn, s3 string
	first   string   // the first replica's data dir
	dirs    []string // every replica's data dir
	log     testkit.LogBuffer
}

// newReplicaSet makes the database and the bucket; the database URL holds
// a password (never checked by the test server) that must show nowhere.
func newReplicaSet(t *testing.T) *replicaSet {
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	return &replicaSet{dsn: dsn, s3: testkit.S3(t, "artifacts")}
}

func (rs *replicaSet) options(t *testing.T, dir string) Options {
	return Options{DataDir: dir, DatabaseURL: rs.dsn, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		Logger:     slog.New(slog.NewTextHandler(&rs.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		VerifySoak: -1, Proc: "-", BlobStore: blobStore(t, rs.s3, "s3://artifacts/phoenix"),
		Replica: ReplicaOptions{On: true, Poll: replicaPoll, Retry: 50 * time.Millisecond, Check: 200 * time.Millisecond}} // a check slower than Check ends the leadership: 50 ms flipped it under -race on a loaded machine
}

// start starts a replica on a new data dir: nothing is copied (the audit
// key is in the shared vault).
func (rs *replicaSet) start(t *testing.T) *App {
	t.Helper()
	dir := t.TempDir()
	rs.dirs = append(rs.dirs, dir)
	if rs.first == "" {
		rs.first = dir
	}
	return startOpts(t, rs.options(t, dir))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing it
	}
	return time.Since(start)
}

func pageIs(t *testing.T, a *App, env, body string) func() bool {
	return func() bool { code, got := edgeGet(t, a, env, "/"); return code == 200 && got == body }
}

// twoReplicas starts two replicas and returns the leader and the other.
func twoReplicas(t *testing.T) (rs *replicaSet, leader, follower *App) {
	t.Helper()
	rs = newReplicaSet(t)
	a, b := rs.start(t), rs.start(t)
	leader = leaderOf(t, a, b)
	return rs, leader, map[*App]*App{a: b, b: a}[leader]
}

// leaderOf waits for exactly one leader among apps and returns it.
func leaderOf(t *testing.T, apps ...*App) *App {
	t.Helper()
	var leader *App
	eventually(t, "one leader", func() bool {
		n := 0
		for _, a := range apps {
			if a.Leading() {
				leader, n = a, n+1
			}
		}
		if n > 1 {
			t.Fatalf("%d leaders", n)
		}
		return n == 1
	})
	return leader
}

// TestReplicasShareTheEdge: a deployment through one replica is served by
// the other's edge, a rollback on the other switches the first back; the
// replicas share the audit key through the vault, with no file copied.
func TestReplicasShareTheEdge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := newReplicaSet(t)
	a := rs.start(t)
	alone := rs.options(t, t.TempDir())
	alone.Replica.On = false
	if _, err := startErr(alone); usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "in use by Phoenix replicas (servers started with --replica)") {
		t.Fatalf("a server without --replica beside replicas: %v", err)
	}
	b := rs.start(t)
	leaderOf(t, a, b)
	assertSharedAuditKey(t, rs, a, b)

	deployPage(t, a, "production", "<title>one</title>")
	took := eventually(t, "B serves one", pageIs(t, b, "production", "<title>one</title>"))
	t.Logf("an activation on A reached B's edge in %v", took)
	deployPage(t, b, "production", "<title>two</title>")
	took = eventually(t, "A serves two", pageIs(t, a, "production", "<title>two</title>"))
	t.Logf("an activation on B reached A's edge in %v", took)
	if _, err := b.Deploy.Rollback(ctx, "shop", "production", 0, "t"); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "A rolled back", pageIs(t, a, "production", "<title>one</title>"))
	t.Logf("a rollback on B reached A's edge in %v", took)
	wantPage(t, b, "production", "<title>one</title>")

	// A change no notification announced (lost, or made while a replica's
	// listener reconnected) reaches every edge through the poll.
	deps, err := a.Deploy.Deployments(ctx, "shop", "production", 10)
	if err != nil || len(deps) < 2 {
		t.Fatalf("deployments: %+v %v", deps, err)
	}
	if _, err := a.DB.ExecContext(ctx, `UPDATE environments SET active_id = $1 WHERE project = 'shop' AND name = 'production'`,
		deps[0].ID); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "B polled", pageIs(t, b, "production", "<title>two</title>"))
	t.Logf("an unannounced change reached B's edge in %v (poll every %v)", took, replicaPoll)
	eventually(t, "A polled", pageIs(t, a, "production", "<title>two</title>"))

	// An environment's allow-list saved on B closes A's edge too, with no
	// deployment: through the notification, or else the poll.
	if err := b.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "production", IPAllow: []string{"192.0.2.0/24"}}); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "A applies B's allow-list", func() bool { code, _ := edgeGet(t, a, "production", "/"); return code == http.StatusForbidden })
	t.Logf("an allow-list saved on B reached A's edge in %v", took)
	// A new environment saved on B, nothing deployed, answers 503 on A.
	if err := b.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "qa"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A routes B's new environment", func() bool { code, _ := edgeGet(t, a, "qa", "/"); return code == http.StatusServiceUnavailable })

	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "API_TOKEN", vault.SecretString(secretMarker), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, _, err := b.Vault.Get(ctx, admin, "API_TOKEN", 0); err != nil || v.Reveal() != secretMarker {
		t.Fatalf("a secret set on A, read on B: %v", err)
	}
	rs.assertNoSecrets(t, a)
}

// assertNoSecrets checks that no secret of the replicas shows in their
// log, their data dirs or what they agree on through the database.
func (rs *replicaSet) assertNoSecrets(t *testing.T, a *App) {
	t.Helper()
	secrets := []string{dbPassword, blobSecret, masterKey, secretMarker}
	if !rs.log.Contains("xxxxx") || !rs.log.Contains("this server leads") {
		t.Errorf("the log never names the database (redacted) or the leader:\n%s", rs.log.String())
	}
	for _, s := range secrets {
		if rs.log.Contains(s) {
			t.Errorf("the replicas' log shows %q", s)
		}
	}
	for _, d := range rs.dirs {
		assertAbsent(t, d, secrets...)
	}
	rows, err := a.DB.QueryContext(context.Background(), `SELECT name, value FROM replica_settings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(value, "PRIVATE") || slices.ContainsFunc(secrets, func(s string) bool { return strings.Contains(value, s) }) {
			t.Errorf("replica setting %s holds a secret: %q", name, value)
		}
	}
	if n != 3 {
		t.Errorf("%d replica settings, want the blob store's identity and owner and the audit verifier key", n)
	}
}

// workflowDir writes a project whose workflow "count" appends a line to
// count.txt and then runs cmd.
func workflowDir(t *testing.T, cmd string) (dir, count string) {
	t.Helper()
	dir = t.TempDir()
	count = filepath.Join(dir, "count.txt")
	yaml := "version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\nworkflows:\n  count:\n    triggers: [{cron: \"0 3 * * *\"}]\n    steps:\n" +
		"      - name: count\n        run: echo ran >> " + count + "; echo output of the step; " + cmd + "\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, count
}

func runStatus(t *testing.T, a *App, id int64) string {
	d, err := a.Pipeline.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Status
}

// TestReplicasRunThePipelineOnTheLeader: a run queued on the follower runs
// once, on the leader; a cancel on the follower reaches it; when the
// leader's session is killed the other replica leads, recovers the run a
// dead leader left running and executes what is queued; a Stop hands
// the lead back.
func TestReplicasRunThePipelineOnTheLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)

	dir, count := workflowDir(t, "true")
	run, err := follower.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: dir, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := follower.Pipeline.Logs(fctx, run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatalf("following the run on the follower: %v", err) // it ends when the run ends on the leader
	}
	if st := runStatus(t, follower, run.ID); st != pipeline.Succeeded {
		t.Fatalf("the queued run %s", st)
	}
	if body := runLogs(t, follower, run.ID); !strings.Contains(body, "output of the step") {
		t.Fatalf("the run's logs through the follower: %q", body)
	}
	if b, _ := os.ReadFile(count); string(b) != "ran\n" {
		t.Fatalf("the run's step ran %q", b)
	}

	slow, _ := workflowDir(t, "sleep 60")
	run, err = follower.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: slow, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the slow run runs", func() bool { return runStatus(t, follower, run.ID) == pipeline.Running })
	if err := follower.Pipeline.Cancel(ctx, run.ID, "t"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cancel reached the leader", func() bool { return runStatus(t, follower, run.ID) == pipeline.Cancelled })

	// A run a crashed leader left running.
	orphan, err := follower.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: slow, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the orphan runs", func() bool { return runStatus(t, follower, orphan.ID) == pipeline.Running })
	killLeaderSession(t, follower)
	eventually(t, "the follower leads", follower.Leading)
	eventually(t, "the old leader stopped leading", func() bool { return !leader.Leading() })
	eventually(t, "the orphan is interrupted", func() bool { return runStatus(t, follower, orphan.ID) == pipeline.Interrupted })

	dir2, count2 := workflowDir(t, "true")
	run, err = leader.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: dir2, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new leader ran it", func() bool { return runStatus(t, leader, run.ID) == pipeline.Succeeded })
	if b, _ := os.ReadFile(count2); string(b) != "ran\n" {
		t.Fatalf("the run's step ran %q", b)
	}
	follower.Stop(ctx)
	eventually(t, "the first leader leads again", leader.Leading)
}

// killLeaderSession ends the leader lock's session, as a lost connection
// would (pg_terminate_backend).
func killLeaderSession(t *testing.T, via *App) {
	t.Helper()
	_, err := via.DB.ExecContext(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
		AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`, int64(0x70686f656e69784c))
	if err != nil {
		t.Fatal(err)
	}
}

// TestReplicaGCKeepsAnotherReplicasUpload: blobs a follower uploaded for
// an open upload survive a collection on the leader, and the upload
// finalizes.
func TestReplicaGCKeepsAnotherReplicasUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs, leader, follower := twoReplicas(t)
	deployPage(t, leader, "production", "<title>old</title>")

	body := "<title>fresh</title>"
	up, d := beginPage(t, follower, body)
	if err := follower.Deploy.PutBlob(ctx, up, d, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.Deploy.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.bucket(t).Stat(ctx, d); errors.Is(err, backend.ErrNotFound) {
		t.Fatal("the leader's GC deleted a blob of the follower's open upload")
	}
	finalizePage(t, follower, up, "production")
	eventually(t, "the leader serves it", pageIs(t, leader, "production", body))
}

func (rs *replicaSet) bucket(t *testing.T) backend.Backend {
	return blobStore(t, rs.s3, "s3://artifacts/phoenix")
}

// startErr starts a server that is expected to fail, and stops it if not.
func startErr(o Options) (*App, error) {
	o.Listen, o.EdgeListen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(o)
	if err != nil {
		return nil, err
	}
	if err := a.Start(context.Background()); err != nil {
		return nil, err
	}
	a.Stop(context.Background())
	return a, nil
}

// runLogs reads a run's logs through a's API, as the CLI does.
func runLogs(t *testing.T, a *App, id int64) string {
	t.Helper()
	code, body := apiDo(t, a, "GET", fmt.Sprintf("/api/v1/runs/%d/logs", id))
	if code != 200 {
		t.Fatalf("GET logs: %d %s", code, body)
	}
	return body
}

// TestReplicaRefusesAnotherBlobStore: a replica started with another
// --blob-store prefix than the replicas sharing its database is refused
// (exit 2) naming both stores, before it claims the other prefix; the
// replicas' own store still starts.
func TestReplicaRefusesAnotherBlobStore(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	rs.start(t)
	o := rs.options(t, t.TempDir())
	o.BlobStore = blobStore(t, rs.s3, "s3://artifacts/other")
	_, err := startErr(o)
	msg := fmt.Sprint(err) + " hint: " + usererr.HintOf(err)
	if usererr.ExitCode(err) != usererr.ExitUsage || !strings.Contains(msg, "s3://artifacts/other at http://127.0.0.1:") ||
		!strings.Contains(msg, "s3://artifacts/phoenix at http://127.0.0.1:") || !strings.Contains(msg, "--blob-store-endpoint") {
		t.Fatalf("a replica on another prefix: %v", msg)
	}
	if strings.Contains(msg, blobSecret) || strings.Contains(msg, dbPassword) {
		t.Errorf("the refusal shows a secret: %s", msg)
	}
	// The refused replica never claimed the other prefix: a lone server
	// (its own owner id) may still.
	startOpts(t, Options{DataDir: t.TempDir(), BlobStore: blobStore(t, rs.s3, "s3://artifacts/other")})
	rs.start(t)
}

// TestReplicasTakeOverTheLoneServersPrefix: a server that ran alone on
// the database and the bucket is moved to replicas; a replica on a new
// data dir started first is refused (the prefix is the lone server's) and
// records nothing, so the lone server's data dir starts as the first
// replica with its own owner id, and the new data dir then joins with it.
func TestReplicasTakeOverTheLoneServersPrefix(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	lone := t.TempDir()
	o := rs.options(t, lone)
	o.Replica = ReplicaOptions{}
	a := startOpts(t, o)
	a.Stop(context.Background())
	owner, err := os.ReadFile(filepath.Join(lone, blobOwnerFile))
	if err != nil {
		t.Fatal(err)
	}

	_, err = startErr(rs.options(t, t.TempDir()))
	msg := fmt.Sprint(err) + " hint: " + usererr.HintOf(err)
	if usererr.ExitCode(err) != usererr.ExitUsage || !strings.Contains(msg, "another server's blobs") || !strings.Contains(msg, blobOwnerFile) {
		t.Fatalf("a new replica on the lone server's prefix: %v", msg)
	}

	first := startOpts(t, rs.options(t, lone))
	if got, _ := os.ReadFile(filepath.Join(lone, blobOwnerFile)); !bytes.Equal(got, owner) {
		t.Fatalf("the lone server's owner id went from %q to %q", owner, got)
	}
	var recorded string
	if err := first.DB.QueryRowContext(context.Background(), `SELECT value FROM replica_settings WHERE name = $1`,
		blobOwnerSetting).Scan(&recorded); err != nil || recorded+"\n" != string(owner) {
		t.Fatalf("the replicas' owner id: %q (%v), want the lone server's %q", recorded, err, owner)
	}
	other := t.TempDir()
	startOpts(t, rs.options(t, other))
	if got, _ := os.ReadFile(filepath.Join(other, blobOwnerFile)); !bytes.Equal(got, owner) {
		t.Fatalf("the second replica's owner id is %q, want the lone server's %q", got, owner)
	}
}

// TestReplicaKnowsItsBlobStoreSpelledOtherwise: a replica whose
// --blob-store-endpoint and --blob-store spell the replicas' store
// otherwise (the scheme's case, trailing slashes) starts, and the
// setting keeps the first replica's spelling; the same bucket and prefix
// behind another endpoint is another store, refused naming both.
func TestReplicaKnowsItsBlobStoreSpelledOtherwise(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	a := rs.start(t)
	recorded := a.opts.BlobStore.Identity()
	o := rs.options(t, t.TempDir())
	o.BlobStore = blobStore(t, "HTTP"+strings.TrimPrefix(rs.s3, "http")+"/", "s3://artifacts/phoenix/")
	startOpts(t, o)
	var got string
	if err := a.DB.QueryRowContext(context.Background(), `SELECT value FROM replica_settings WHERE name = $1`,
		blobStoreSetting).Scan(&got); err != nil || got != recorded {
		t.Fatalf("the recorded blob store: %q (%v), want the first replica's %q", got, err, recorded)
	}
	other := testkit.S3(t, "artifacts")
	o = rs.options(t, t.TempDir())
	o.BlobStore = blobStore(t, other, "s3://artifacts/phoenix")
	_, err := startErr(o)
	if msg := fmt.Sprint(err); usererr.ExitCode(err) != usererr.ExitUsage || !strings.Contains(msg, "at "+other) ||
		!strings.Contains(msg, recorded) {
		t.Fatalf("a replica on another endpoint: %v", msg)
	}
}

// TestReplicaNeeds: --replica without what replicas share, or with a bad
// --advertise-url, is a usage error naming it.
func TestReplicaNeeds(t *testing.T) {
	t.Parallel()
	full := Options{DataDir: t.TempDir(), DatabaseURL: "postgres://db/phoenix", MasterKey: vault.SecretString(masterKey),
		BlobStore: blobStore(t, "http://127.0.0.1:1", "s3://artifacts/phoenix"), Replica: ReplicaOptions{On: true}}
	for _, tc := range []struct {
		name, want string
		edit       func(*Options)
	}{
		{"no database", "--database-url", func(o *Options) { o.DatabaseURL = "" }},
		{"no blob store", "--blob-store", func(o *Options) { o.BlobStore = nil }},
		{"no master key", "master key", func(o *Options) { o.MasterKey = vault.Secret{} }},
		{"advertise not a URL", "--advertise-url", func(o *Options) { o.Replica.Advertise = "10.0.0.5:7070" }},
		{"advertise with a password", "--advertise-url", func(o *Options) { o.Replica.Advertise = "http://u:p@10.0.0.5:7070" }},
		// set by systemd's Environment=: named by the variable (Options.FlagName)
		{"advertise from the environment", "PHOENIX_ADVERTISE_URL is not an http", func(o *Options) {
			o.Replica.Advertise, o.FlagName = "10.0.0.5:7070", fromEnvironment
		}},
		{"replica from the environment", "PHOENIX_REPLICA needs --database-url", func(o *Options) { o.DatabaseURL, o.FlagName = "", fromEnvironment }},
		// every replica listening so would be "http://[::]:7070"
		{"API on every IPv4 address, no advertise", "(0.0.0.0:7070) needs --advertise-url", func(o *Options) { o.Listen = "0.0.0.0:7070" }},
		{"API on every address, no advertise", "([::]:7070) needs --advertise-url", func(o *Options) { o.Listen = "[::]:7070" }},
		{"API on no host, no advertise", "(:7070) needs --advertise-url", func(o *Options) { o.Listen = ":7070" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := full
			tc.edit(&o)
			_, err := New(o)
			if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ":p@") {
				t.Fatalf("err = %v, want a usage error naming %s", err, tc.want)
			}
		})
	}
	full.Listen = "127.0.0.1:7070"
	if _, err := New(full); err != nil {
		t.Fatal(err)
	}
	full.Listen, full.Replica.Advertise = "0.0.0.0:7070", "https://phoenix-1.internal:7070"
	if _, err := New(full); err != nil {
		t.Fatal(err)
	}
}

// fromEnvironment names every flag as set by its PHOENIX_* variable, as
// the command line's Options.FlagName does for those the environment set.
func fromEnvironment(flag string) string {
	return "PHOENIX_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// TestReplicaFollowerTrimsItsCache: once the leader's GC dropped a
// release, a follower's cache loses its blobs too (once settled), and
// keeps those of the release its edge serves and of retained ones.
func TestReplicaFollowerTrimsItsCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	old := deployPage(t, leader, "production", "<title>old</title>")
	eventually(t, "the follower serves old", pageIs(t, follower, "production", "<title>old</title>"))
	cur := deployPage(t, leader, "production", "<title>current</title>")
	eventually(t, "the follower serves current", pageIs(t, follower, "production", "<title>current</title>"))
	if _, err := follower.Blobs.Path(old); err != nil {
		t.Fatalf("the follower never cached the old release: %v", err)
	}
	if _, err := leader.DB.ExecContext(ctx, `DELETE FROM deployments WHERE id NOT IN (SELECT active_id FROM environments)`); err != nil {
		t.Fatal(err) // retention with Keep=1, which the leader's GC applies
	}
	if _, err := leader.Deploy.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	follower.trimCache(ctx)
	if _, err := follower.Blobs.Path(old); err != nil {
		t.Fatalf("a blob fetched a moment ago was trimmed: %v", err)
	}
	follower.Blobs.SetClock(func() time.Time { return time.Now().Add(local.Grace + time.Minute) })
	follower.trimCache(ctx)
	if _, err := follower.Blobs.Path(old); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("the dropped release's blob is still cached: %v", err)
	}
	if _, err := follower.Blobs.Path(cur); err != nil {
		t.Fatalf("the served release's blob was trimmed: %v", err)
	}
	wantPage(t, follower, "production", "<title>current</title>")
	// The leader leaves its cache to its GC. A GC round an activation's
	// notification kicked late would rightly delete the stray blob too, so
	// the check holds the GC off (as a backup does) to see trimCache alone.
	err := leader.Deploy.HoldBlobs(func() error {
		if !leader.Leading() {
			t.Fatal("the leader lost the lead during the test")
		}
		stray := []byte("a blob no release names")
		if err := leader.Blobs.Put(ctx, backend.Sum(stray), bytes.NewReader(stray), int64(len(stray))); err != nil {
			return err
		}
		leader.Blobs.SetClock(func() time.Time { return time.Now().Add(local.Grace + time.Minute) })
		leader.trimCache(ctx)
		if _, err := leader.Blobs.Path(backend.Sum(stray)); err != nil {
			return fmt.Errorf("the leader trimmed its cache: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReplicasSharingAnAddressAreTold: two replicas given the same
// --advertise-url overwrite each other's heartbeat; each logs that another
// running server uses its address. One started again under the address of
// one that stopped (or crashed: nothing writes its heartbeat any more) is
// not told.
func TestReplicasSharingAnAddressAreTold(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	const same = "http://10.0.0.9:7070"
	const warning = "another running server uses this replica's address"
	start := func() *App {
		o := rs.options(t, t.TempDir())
		o.Replica.Advertise = same
		return startOpts(t, o)
	}
	start().Stop(context.Background())
	second := start()
	beats := func(n int64) func() bool { // second has written its heartbeat n polls after its start
		return func() bool {
			var seen int64
			err := second.DB.QueryRowContext(context.Background(), `SELECT seen FROM replicas WHERE replica = $1`, same).Scan(&seen)
			return err == nil && seen >= second.started.Add(time.Duration(n)*replicaPoll).UnixMilli()
		}
	}
	eventually(t, "the second replica's third heartbeat", beats(2))
	if strings.Contains(rs.log.String(), warning) {
		t.Fatal("a replica started under a stopped one's address was told another server uses it")
	}
	start()
	eventually(t, "the replicas sharing "+same+" are told", func() bool {
		return strings.Contains(rs.log.String(), warning)
	})
}
