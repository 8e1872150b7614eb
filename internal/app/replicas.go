package app

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/s3"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Several servers (replicas) may share one PostgreSQL database and one
// blob store (docs/postgres.md, "Several servers"). Each serves the API
// and the edge; the leader (store.DB.Lead) alone runs the singleton work
// registered with a.singleton: the pipeline's runs and schedules, the
// monitor, notification delivery, backups, blob GC, vault rotation and
// audit checkpoints. Activations and run changes are announced with
// NOTIFY and, as a safety net, polled.

// ReplicaOptions turns on and tunes replicas.
type ReplicaOptions struct {
	// On lets other servers share DatabaseURL; it needs BlobStore and
	// MasterKey. Off (the default), a second server on the database is
	// refused.
	On bool
	// Poll is how often a replica reconciles its edge and the run queue
	// with the database, in case a notification was lost (default 5s).
	Poll time.Duration
	// Retry and Check tune the leader lock (store.LeaderOptions).
	Retry, Check time.Duration
	// Advertise is the URL the other replicas reach this one's API at, to
	// read the logs of the runs it ran (default: the API's listening
	// address, enough only on one machine).
	Advertise string
}

// DeployChannel is the notification channel of activations and rollbacks
// (the payload is "project/environment") and of edge policy changes
// ("project/").
const DeployChannel = "phoenix_deploy"

// UsersChannel is the notification channel of changes to a user's
// disabled flag or grants (the payload is the user's name): the other
// replicas reload their view of the users, which their edges check every
// site visitor's session against.
const UsersChannel = "phoenix_users"

// BlobsChannel is the notification channel of garbage collections that
// deleted blobs from the shared store: the other replicas forget them
// (cache.Store.Relearn), so no upload through them is told they are present.
const BlobsChannel = "phoenix_blobs"

//go:embed migrations/*.sql
var replicaMigrationFiles embed.FS

func replicaMigrations() store.Migrations {
	return store.EmbeddedMigrations("replicas", replicaMigrationFiles)
}

// checkReplica checks the options replicas need.
func checkReplica(o Options) error {
	if !o.Replica.On {
		return nil
	}
	hint := "replicas share the database (--database-url), the blobs (--blob-store) and the vault's master key (PHOENIX_MASTER_KEY)"
	switch {
	case o.DatabaseURL == "":
		return usererr.New(usererr.Usage, "%s needs --database-url: replicas share a PostgreSQL database", o.flag("replica")).WithHint("%s", hint)
	case o.BlobStore == nil:
		return usererr.New(usererr.Usage, "%s needs --blob-store: every replica serves blobs another uploaded", o.flag("replica")).WithHint("%s", hint)
	case o.MasterKey.IsZero():
		return usererr.New(usererr.Usage, "%s needs the vault's master key: the artifact signing key is shared through the vault", o.flag("replica")).WithHint("%s", hint)
	}
	if adv := o.Replica.Advertise; adv != "" {
		u, err := url.Parse(adv)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return usererr.New(usererr.Usage, "%s is not an http:// or https:// URL of this server's API without a user or password", o.flag("advertise-url")).
				WithHint("e.g. --advertise-url http://10.0.0.5:7070")
		}
	} else if addr := apiAddress(o); listensEverywhere(addr) {
		return usererr.New(usererr.Usage, "%s with the API on every address (%s) needs %s: the others would know this replica by that address, "+
			"which they cannot reach and which names every replica listening so", o.flag("replica"), addr, o.flag("advertise-url")).
			WithHint("give each replica the URL the others reach its API at, e.g. --advertise-url http://10.0.0.5:7070")
	}
	return nil
}

// apiAddress is the address the API listens on: the socket systemd
// passed for it, else Options.Listen.
func apiAddress(o Options) string {
	if ln, ok := o.Listeners[SocketAPI]; ok {
		return ln.Addr().String()
	}
	return o.Listen
}

// listensEverywhere reports whether addr (host:port) is on the
// unspecified address (0.0.0.0, ::, or no host), which names no machine.
func listensEverywhere(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// singleton runs fn while this server leads: always without replicas,
// else from when it takes the lead until it loses it (fn's context ends).
func (a *App) singleton(fn func(context.Context)) { a.singletons = append(a.singletons, fn) }

// startSingletons starts the singleton work: under the leader lock with
// replicas, else until Stop.
func (a *App) startSingletons() {
	fns := a.singletons
	run := func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, fn := range fns {
			wg.Go(func() { fn(ctx) })
		}
		wg.Wait()
	}
	if !a.opts.Replica.On {
		a.background(run)
		return
	}
	o := store.LeaderOptions{Retry: a.opts.Replica.Retry, Check: a.opts.Replica.Check, Logger: a.log}
	a.background(func(ctx context.Context) {
		a.DB.Lead(ctx, o, func(ctx context.Context) {
			a.leading.Store(true)
			defer a.leading.Store(false)
			run(ctx)
		})
	})
}

// Leading reports whether this server runs the singleton work now.
func (a *App) Leading() bool { return !a.opts.Replica.On || a.leading.Load() }

// startReplication follows the other replicas: notifications of
// activations and run changes, and a poll as the safety net.
func (a *App) startReplication() {
	if !a.opts.Replica.On {
		return
	}
	a.Deploy.OnActivate(func(r deploy.Release) {
		if err := a.DB.Notify(context.Background(), DeployChannel, r.Project+"/"+r.Environment); err != nil {
			a.log.Warn("replicas: cannot announce an activation; the others see it at their next poll", "err", err)
		}
	})
	a.Deploy.OnEnvDelete(func(project, env string) {
		if err := a.DB.Notify(context.Background(), DeployChannel, project+"/"+env); err != nil {
			a.log.Warn("replicas: cannot announce a deleted environment; the others see it at their next poll", "err", err)
		}
	})
	a.Deploy.OnBlobsDeleted(a.announceCollected) // replica_blobs.go
	a.Deploy.OnEdgePolicy(func(project string) {
		if err := a.DB.Notify(context.Background(), DeployChannel, project+"/"); err != nil {
			a.log.Warn("replicas: cannot announce an edge policy change; the others see it at their next poll", "err", err)
		}
	})
	a.Auth.OnUserChange(func(name string) {
		if err := a.DB.Notify(context.Background(), UsersChannel, name); err != nil {
			a.log.Warn("replicas: cannot announce a change of a user; the others see it at their next poll", "user", name, "err", err)
		}
	})
	a.background(func(ctx context.Context) {
		a.DB.Listen(ctx, []string{DeployChannel, pipeline.RunsChannel, UsersChannel, BlobsChannel, SecretsChannel}, a.log, func(n store.Notification) {
			switch n.Channel {
			case DeployChannel:
				a.syncEdge(ctx)
				a.syncConfigs(ctx) // projectconfig.go
				a.kickGC()
			case UsersChannel:
				a.loadUserStates(ctx)
			case BlobsChannel:
				a.relearnBlobs(ctx)
			case SecretsChannel:
				a.reloadChannelsOf(ctx, n.Payload) // notify_secrets.go
			case pipeline.RunsChannel:
				a.Pipeline.Poke(ctx)
			default:
				a.reconcile(ctx)
			}
		})
	})
	every := a.opts.Replica.Poll
	if every <= 0 {
		every = 5 * time.Second
	}
	a.every(every, every, a.reconcile)
	a.every(a.opts.GCEvery, time.Hour, a.trimCache)
	a.startTelemetry()
}

// reconcile brings what this replica knows of the shared blob store, the
// edge, the view of the users and the run queue in line with the database.
func (a *App) reconcile(ctx context.Context) {
	a.relearnIfCollected(ctx) // replica_blobs.go
	a.syncEdge(ctx)
	a.syncConfigs(ctx)
	a.syncChannelSecrets(ctx) // notify_secrets.go
	a.loadUserStates(ctx)
	a.Pipeline.Poke(ctx)
	if a.Leading() {
		a.Notify.Kick() // deliveries another replica queued
	}
}

// loadUserStates re-reads the users' disabled flags and grants, which the
// edge checks its visitors' sessions against: another replica may have
// changed them.
func (a *App) loadUserStates(ctx context.Context) {
	if err := a.Auth.LoadUserStates(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("replicas: read the users' states", "err", err)
	}
}

// edgeState is what the edge serves: edge name -> deployment id and the
// project's edge policy and the environment's settings applied. publish
// and syncEdge hold mu, so a poll that read the database before an
// activation never puts the older release back after it.
type edgeState struct {
	mu      sync.Mutex
	served  map[string]int64
	applied map[string]string // edge name -> appliedKey of what it serves
	// undeployed: edge name -> domains and allow-list routed, of the
	// environments that exist with nothing deployed (undeployed.go).
	undeployed map[string]string
	blobs      map[string][]backend.Digest // edge name -> the served release's blobs (replica_cache.go)
}

// syncEdge serves the active deployment of every environment, fetching
// its blobs first, with its project's edge policy; what the edge serves
// already is left alone. When another replica activated a release, the
// sites wildcards follow too (a new project's *.<project>.<domain>), so
// this replica renews them should it be left alone.
func (a *App) syncEdge(ctx context.Context) {
	if a.syncReleases(ctx) {
		a.syncSitesCerts(ctx) // sites.go; not under edge.mu: it may talk to the CA's storage
	}
}

// syncReleases is syncEdge's edge part; it takes edge.mu itself (unlike
// publishLocked, whose caller holds it) and reports whether it switched a
// release. One read of the environments serves the releases to serve and,
// once they are published, the environments with nothing deployed
// (undeployed.go), all under edge.mu: a deletion unpublishing meanwhile
// waits for it, so it is not undone by what was read before.
func (a *App) syncReleases(ctx context.Context) (switched bool) {
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	envs, err := a.Deploy.Environments(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: read the environments", "err", err)
		}
		return
	}
	defer a.routeUndeployedLocked(envs) // also when what follows fails, as before
	active, err := a.Deploy.ActiveIn(ctx, envs)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: read the active deployments", "err", err)
		}
		return
	}
	policies, err := a.Deploy.EdgePolicies(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: read the edge policies", "err", err)
		}
		return
	}
	a.dropDeleted(active)
	var stale, restyled []deploy.Release
	for _, r := range active {
		name := edgeName(r.Project, r.Environment)
		switch {
		case a.edge.served[name] != r.Deployment.ID:
			stale = append(stale, r)
		case a.edge.applied[name] != appliedKey(string(policies[r.Project]), r):
			restyled = append(restyled, r)
		}
	}
	for _, r := range a.servable(ctx, stale) {
		if err := a.publishLocked(ctx, r); err != nil {
			a.log.Error("edge: cannot serve release", "project", r.Project, "env", r.Environment, "err", err)
			continue
		}
		a.log.Info("edge: switched to the release another replica activated", "project", r.Project, "env", r.Environment,
			"deployment", r.Deployment.ID)
		a.loadProject(ctx, r.Project) // its probes, rules and channels, for when this replica leads
	}
	for _, r := range restyled {
		if err := a.publishLocked(ctx, r); err != nil {
			a.log.Error("edge: cannot apply the edge policy", "project", r.Project, "env", r.Environment, "err", err)
			continue
		}
		a.log.Info("edge: applied the edge policy another replica stored", "project", r.Project, "env", r.Environment)
	}
	if len(stale) > 0 {
		a.reconfigure()
	}
	return len(stale) > 0
}

// dropDeleted stops serving the environments the edge serves that have
// no active deployment any more (another replica deleted them); a.edge.mu
// is held.
func (a *App) dropDeleted(active []deploy.Release) {
	live := make(map[string]bool, len(active))
	for _, r := range active {
		live[edgeName(r.Project, r.Environment)] = true
	}
	for name := range a.edge.served {
		if !live[name] {
			a.unpublishLocked(name)
		}
	}
}

// reloadProjects reads the phoenix.yaml of every project again
// (loadProjects) and reconfigures the monitor and the channels.
func (a *App) reloadProjects(ctx context.Context) {
	if err := a.loadProjects(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("monitor: read the projects' phoenix.yaml", "err", err)
	}
}

// sharedSetting returns the value of name all replicas agree on: the one
// recorded, or mine, recorded now when none is.
func (a *App) sharedSetting(ctx context.Context, name, mine string) (string, error) {
	var got string
	err := a.DB.Tx(ctx, func(tx *sql.Tx) error {
		v, ok, err := readSetting(ctx, tx, name)
		if err != nil || ok {
			got = v
			return err
		}
		got = mine
		_, err = tx.ExecContext(ctx, `INSERT INTO replica_settings (name, value) VALUES ($1, $2)`, name, mine)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("replicas: setting %s: %w", name, err)
	}
	return got, nil
}

// recordedSetting returns the value recorded for name, and whether there
// is one.
func (a *App) recordedSetting(ctx context.Context, name string) (string, bool, error) {
	got, ok, err := readSetting(ctx, a.DB, name)
	if err != nil {
		return "", false, fmt.Errorf("replicas: setting %s: %w", name, err)
	}
	return got, ok, nil
}

// readSetting reads setting name through q (the database, or the
// transaction sharedSetting records in): its value and whether there is one.
func readSetting(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (string, bool, error) {
	var got string
	err := q.QueryRowContext(ctx, `SELECT value FROM replica_settings WHERE name = $1`, name).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return got, err == nil, err
}

// blobOwnerSetting records the blob store owner id of the replicas.
const blobOwnerSetting = "blob-store.owner"

// claimSharedBlobStore claims rs for the replicas: it must be the store
// the replicas recorded, and is claimed with their owner id, the first
// one's, which is written into each replica's data dir. What the first
// replica records, it records once its claim succeeded: a replica refused
// (another server's prefix, such as that of the lone server these
// replicas replace, whose data dir has not started as a replica yet)
// leaves nothing behind that would refuse the right one after it. The
// replicas' starts are serialized (store.DB.SerializeStart), so no other
// start records between the reading and the recording.
func (a *App) claimSharedBlobStore(ctx context.Context, rs BlobStore) error {
	mine := rs.Identity()
	shared, known, err := a.recordedSetting(ctx, blobStoreSetting)
	if err != nil {
		return err
	}
	if known && !s3.SameIdentity(shared, mine) {
		return usererr.New(usererr.Usage, "%s %s is not the blob store of the replicas sharing this database: they use %s", a.opts.flag("blob-store"), mine, shared).
			WithHint("start this replica with the replicas' --blob-store and --blob-store-endpoint (%s); to move every replica to another store, "+
				"stop them all, copy the bucket's blobs/ there and delete the setting %q from table replica_settings (docs/postgres.md)", shared, blobStoreSetting)
	}
	owner, recorded, err := a.recordedSetting(ctx, blobOwnerSetting)
	if err != nil {
		return err
	}
	if !recorded {
		if owner, err = blobOwner(a.opts.DataDir); err != nil {
			return err
		}
	}
	if err := rs.Claim(ctx, owner); err != nil {
		hint := ""
		if !recorded {
			hint = fmt.Sprintf("no replica of this database has claimed the prefix yet: if the server these replicas replace used it, start the first replica on that server's data dir "+
				"(its %s holds the prefix's owner id) and the others after it; else give the replicas a prefix of their own", blobOwnerFile)
		}
		return a.claimRefused(err, hint)
	}
	if !known {
		if _, err := a.sharedSetting(ctx, blobStoreSetting, mine); err != nil {
			return err
		}
	}
	if !recorded {
		_, err := a.sharedSetting(ctx, blobOwnerSetting, owner)
		return err
	}
	p := filepath.Join(a.opts.DataDir, blobOwnerFile)
	if cur, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(cur)) == owner {
		return nil
	}
	return os.WriteFile(p, []byte(owner+"\n"), 0o600)
}

// blobStoreSetting records the identity of the replicas' blob store.
const blobStoreSetting = "blob-store.identity"

// auditKeyFile is the audit log's checkpoint key in the data dir.
func auditKeyFile(dataDir string) string { return filepath.Join(dataDir, "keys", "audit.key") }

// checkAuditKey makes every replica sign checkpoints with the same key.
// The key is in the vault, which the replicas share through the database;
// the first records its verifier key (public), and a replica whose vault
// holds another (PHOENIX_AUDIT_KEY replaced behind the server's back: the
// secret API refuses to) is refused.
func (a *App) checkAuditKey(ctx context.Context, key audit.Key) error {
	shared, err := a.sharedSetting(ctx, "audit.verifier", key.VerifierKey)
	if err != nil {
		return err
	}
	if strings.TrimSpace(shared) != strings.TrimSpace(key.VerifierKey) {
		return usererr.New(usererr.Usage, "the audit key in the vault (PHOENIX_AUDIT_KEY) is not the key the replicas sharing the database sign audit checkpoints with (%s)", shared).
			WithHint("the secret API never changes PHOENIX_AUDIT_KEY: see its versions with 'phoenix secret history PHOENIX_AUDIT_KEY' and restore the database the replicas signed with")
	}
	return nil
}
