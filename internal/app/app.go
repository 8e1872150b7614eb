// Package app is Phoenix's composition root: it opens the data dir and the
// store, builds the domains, and runs the API and edge servers. Start and
// Stop are the only lifecycle; Stop runs cleanups in reverse order and is
// safe to call more than once.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/waf"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// Options configures an App.
type Options struct {
	DataDir    string // required; created 0700 if missing
	Listen     string // API address, e.g. 127.0.0.1:7070
	EdgeListen string // edge address, e.g. 127.0.0.1:8080
	EdgeLoops  int    // event loops of the edge on Linux (0: edge.Loops picks)
	// EdgeIdleTimeout closes the edge's keep-alive connections idle this
	// long (0: 2 minutes).
	EdgeIdleTimeout time.Duration
	// EdgeMaxConnsPerIP caps the connections one client holds open across
	// the edge's listeners (0: no cap; TrustedProxies are not counted).
	EdgeMaxConnsPerIP int
	Logger            *slog.Logger // defaults to a discarding logger
	// RolesFile defines extra roles (see docs/auth.md); default
	// <data>/roles.yaml, used when it exists.
	RolesFile string
	// OIDC, when set, turns on single sign-on through that provider
	// (discovered at start; see docs/auth.md).
	OIDC *auth.OIDCConfig
	// CheckpointEvery is how often the audit log's head is signed
	// (default 1m); a final checkpoint is signed at Stop.
	CheckpointEvery time.Duration
	// Argon2 overrides the password hash cost (tests).
	Argon2 auth.Argon2
	// MasterKey unseals the vault at start (and initializes a new one);
	// without it the vault stays sealed until 'phoenix vault unseal'.
	MasterKey vault.Secret
	// InProcess: the server lives for one CLI command (one run without
	// --server while no server holds the data dir). 'phoenix vault unseal'
	// cannot reach it, so errors about its sealed vault say to give the
	// next command the master key (PHOENIX_MASTER_KEY_FILE) instead.
	InProcess bool
	// VaultPolicyFile holds the vault's access rules (docs/vault.md);
	// default <data>/vault-policy.yaml, used when it exists.
	VaultPolicyFile string
	// VaultKDF overrides the key derivation cost a new vault stores (tests).
	VaultKDF vault.KDFParams
	// VaultEvery is how often due rotations and expired deletions are
	// handled (default 1m).
	VaultEvery time.Duration
	// VerifySoak is how long a deployment is verified after activation
	// (default 10s; negative: one round of checks).
	VerifySoak time.Duration
	// Keep is how many deployments each environment retains (default 20).
	Keep int
	// GCEvery is how often retention and blob garbage collection run
	// besides after activations (default 1h).
	GCEvery time.Duration
	// ScrubEvery is how often the server reads back every blob retained
	// deployments use to find damaged ones (default DefaultScrubEvery;
	// negative: never); ScrubRate is the most bytes a second it reads
	// then (default DefaultScrubRate; negative: no limit). scrub.go.
	ScrubEvery time.Duration
	ScrubRate  int64
	// RunRetention says which finished pipeline runs are pruned (default
	// older than 90 days beyond each project's newest 50); prune.go.
	RunRetention pipeline.Retention
	// Proc is the proc filesystem for host metrics (default /proc; "-"
	// turns them off).
	Proc string
	// EdgeTLSCert and EdgeTLSKey (PEM files, pairs in the same order)
	// make the edge serve HTTPS, with HTTP/2, instead of plain HTTP; with
	// several pairs each client gets the one covering the name it asks
	// for (SNI), else the first.
	EdgeTLSCert, EdgeTLSKey []string
	// EdgeTLSListen, when set, is the edge's HTTPS address beside plain
	// HTTP on EdgeListen; ACME needs it (acme.go).
	EdgeTLSListen string
	// Listeners are sockets systemd passed (socket activation), by name:
	// SocketAPI, SocketEdge, SocketEdgeTLS (listen.go). A named socket is
	// served instead of listening on its address.
	Listeners map[string]net.Listener
	// ACME obtains certificates for environments' custom domains.
	ACME ACMEOptions
	// CertWarning: the monitor alerts when a certificate the edge serves
	// expires within it (default 14 days; negative: no alert). certificates.go
	CertWarning time.Duration
	// CertOrderAlert: the monitor alerts when a domain's certificate order
	// has been failing for it (default an hour; negative: no alert).
	CertOrderAlert time.Duration
	// DiskAlertFree: the monitor alerts when the data dir or the blob dir
	// has less room than this (--disk-alert-free; zero: no alert).
	DiskAlertFree DiskThreshold
	// EdgeHeaders are response header rules for every site (e.g. HSTS).
	EdgeHeaders []edge.HeaderRule
	// EdgeAccessLog writes the edge's access log (accesslog.go).
	EdgeAccessLog AccessLogOptions
	// TrustedProxies are the load balancers in front of the edge and the
	// API: from them the client is read from X-Forwarded-For, for
	// allow-lists, rate limits, the firewall, sign-in limits and the log
	// (edge.RealIP). Empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// EdgeMetricsAllow may read the edge's /metrics besides loopback
	// (edge.Options.MetricsAllow).
	EdgeMetricsAllow []netip.Prefix
	// SitesDomain, when set, gives every environment a public host name
	// of its own: <env>.<project>.<SitesDomain> (a wildcard DNS record
	// points the domain at the edge). Normalized: lower case, no trailing
	// dot. No custom domain may be under it.
	SitesDomain string
	// PublicURL is where people open this server's dashboard
	// (https://phoenix.example.com, no trailing slash; "" unknown): the
	// pipeline's notifications link to a run's page there.
	PublicURL string
	// GeoIPDB is a MaxMind country database (.mmdb) for projects'
	// edge.waf.geo_allow and geo_deny (firewall.go); without it such a
	// policy is refused.
	GeoIPDB string
	// Backup is where and when the server backs up its data dir.
	Backup BackupOptions
	// BlobStore, when set, keeps the artifact blobs (S3); the data dir's
	// blobs folder is then its local cache (blobs.go).
	BlobStore BlobStore
	// DatabaseURL, when set, is the PostgreSQL database holding the state
	// instead of <data>/state.db (database.go).
	DatabaseURL string
	// Replica lets several servers share DatabaseURL (replicas.go).
	Replica ReplicaOptions
	// FlagName names what gave a phoenix server flag its value, for the
	// errors that refuse it: the flag ("--geoip-db") or the PHOENIX_*
	// variable that set it (the command line's Globals.flagOrEnv); nil:
	// the flag.
	FlagName func(flag string) string
	// StepSandbox confines pipeline steps (stepsandbox.go): "auto" (or
	// ""): where the kernel can; "on": the server refuses to start where
	// it cannot; "off": never.
	StepSandbox string
	// StepHidden are the server's files steps may not reach besides the
	// data dir: key files, a local backup repository.
	StepHidden []string

	// diskSpace and probeFile replace the storage check's statfs and
	// write probe in tests (storehealth.go): a full disk cannot be made
	// without root.
	diskSpace func(dir string) (free, total uint64, err error)
	probeFile func(dir string) error
}

// flag names what gave the phoenix server flag name its value
// (Options.FlagName).
func (o Options) flag(name string) string {
	if o.FlagName != nil {
		return o.FlagName(name)
	}
	return "--" + name
}

// App is a running Phoenix server.
type App struct {
	opts     Options
	log      *slog.Logger
	started  time.Time // when Start began
	DB       *store.DB
	Blobs    *local.Store    // the data dir's blobs: the store, or the cache of BlobStore
	store    backend.Backend // where deployments keep blobs: Blobs, or BlobStore behind it
	Deploy   *deploy.Service
	keys     *signingKeys
	Auth     *auth.Service
	sso      *auth.OIDC // single sign-on, when Options.OIDC is set
	geo      *waf.GeoDB // Options.GeoIPDB, for the edge's firewalls (firewall.go)
	Vault    *vault.Vault
	Pipeline *pipeline.Service
	Configs  *projectcfg.Store // the projects' phoenix.yaml (projectconfig.go)
	Notify   *notify.Dispatcher
	Monitor  *monitor.Monitor
	Backups  *Backups
	projects *projectConfigs
	Audit    *audit.Log
	AuditKey audit.Key
	Hosts    *edge.Hosts
	Edge     *edge.Handler
	sites    *siteCache
	apiAddr  net.Addr
	edgeAddr net.Addr
	// probeToken marks the server's own probes of its edge (probeHeaders).
	probeToken string
	// edgeTLSAddr is the edge's HTTPS listener with EdgeTLSListen.
	edgeTLSAddr net.Addr
	certs       certInventory // the edge's TLS certificates (certificates.go)
	health      *storeHealth  // the storage check of /api/v1/health and the disk alerts (storehealth.go)
	sitesCerts  sitesCerts    // the sites domain's wildcards given to ACME (sites.go)

	edge       edgeState               // what the edge serves (replicas.go)
	self       replicaSelf             // this replica's heartbeat identity (replica_telemetry.go)
	singletons []func(context.Context) // work only the leader runs
	leading    atomic.Bool
	gcKick     chan struct{}
	scrub      scrubState    // the checks of the blob store (scrub.go)
	pruneKick  chan struct{} // prune.go
	adoptKick  chan struct{} // a run ended: what it left unverified (verify.go)
	startDone  func()        // lets the next replica start

	// Test hooks (verify.go): verifyStarts is called as each
	// verification of an activation begins, verifyResumed after each pass
	// of resumeVerifications (owed alerts queued, verifications taken
	// over) with the deployments it took over; verifyLease, when set,
	// replaces the constant verifyLease; rollbackCommitted is called
	// with the failed deployment once an automatic rollback committed,
	// before its alert is queued (rollback_alert.go).
	verifyStarts      func(deploy.Release)
	verifyResumed     func(ids []int64)
	verifyLease       time.Duration
	rollbackCommitted func(failed int64)
	// muteBlobsChannel drops this replica's phoenix_blobs notifications,
	// as a lost one (replica_blobs.go).
	muteBlobsChannel atomic.Bool

	// blobsSeen is the blobs generation this replica last relearned the
	// shared blob store at (replica_blobs.go).
	blobsSeen atomic.Pointer[string]

	// runSettled are the pipeline runs' deployments whose run verified
	// them, or finished without leaving them unverified (verify.go,
	// adoptUnverified): not looked at again.
	runSettled idSet
	// owedTried are the deployments whose owed rollback alert a pass of
	// queueOwed tried to send (rollback_alert.go): retried without a
	// warning each time.
	owedTried idSet

	mu       sync.Mutex
	cleanups []func(context.Context) error
	stopped  bool
	errc     chan error
}

// New validates opts and returns an App that has not started.
func New(opts Options) (*App, error) {
	if opts.DataDir == "" {
		return nil, usererr.New(usererr.Usage, "no data dir").WithHint("pass --data DIR or set PHOENIX_DATA")
	}
	if len(opts.EdgeTLSCert) != len(opts.EdgeTLSKey) || slices.Contains(opts.EdgeTLSCert, "") || slices.Contains(opts.EdgeTLSKey, "") {
		return nil, usererr.New(usererr.Usage, "give the edge's TLS certificates and keys in pairs: %d certificate(s), %d key(s)",
			len(opts.EdgeTLSCert), len(opts.EdgeTLSKey)).
			WithHint("--edge-tls-cert FILE --edge-tls-key FILE, once for each certificate, in the same order")
	}
	if err := checkReplica(opts); err != nil {
		return nil, err
	}
	if err := checkEdgeTLS(opts); err != nil {
		return nil, err
	}
	if err := checkListeners(opts); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{opts: opts, log: opts.Logger, errc: make(chan error, 2), startDone: func() {}, probeToken: rand.Text()}, nil
}

// Start opens the data dir and store and starts serving. On error,
// everything started so far is stopped again.
func (a *App) Start(ctx context.Context) (err error) {
	a.started = time.Now()
	defer func() {
		if err != nil {
			a.Stop(context.Background())
		}
	}()
	if err := os.MkdirAll(a.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDataDir(a.opts.DataDir)
	if err != nil {
		return err
	}
	a.onStop(func(context.Context) error { return lock.release() })
	if err := removeServerInfoFile(a.opts.DataDir); err != nil { // a crash's: the lock is ours
		return fmt.Errorf("remove a stale server.json: %w", err)
	}
	if err := a.openStore(ctx); err != nil {
		return err
	}
	if err := a.openAudit(); err != nil {
		return err
	}
	if err := a.openAuth(); err != nil {
		return err
	}
	if err := a.openBlobs(ctx); err != nil {
		return err
	}
	a.health = a.newStoreHealth()
	if err := a.openDeploy(); err != nil {
		return err
	}
	if err := a.openVault(ctx); err != nil {
		return err
	}
	a.keys.vault, a.keys.inProcess = a.Vault, a.opts.InProcess
	if !a.Vault.Sealed() {
		// Move a pre-vault key file in now; a failure (a policy that does
		// not let the server read it) shows at the first deploy too.
		if _, err := a.keys.key(ctx); err != nil {
			a.log.Error("artifact signing key", "err", err)
		}
	}
	if err := adminToken(ctx, a.opts.DataDir, a.Auth, a.log); err != nil {
		return err
	}
	if err := a.openOIDC(); err != nil { // the dashboard's and the edge's single sign-on
		return err
	}
	if err := a.openGeoDB(); err != nil { // before the edge, closed after it
		return err
	}
	// Before the edge: a key that does not open the repository refuses
	// the start before anything serves; before the pipeline: runs resumed
	// next may take backups.
	if err := a.openBackups(); err != nil {
		return err
	}
	if err := a.startEdge(ctx); err != nil {
		return err
	}
	a.startGC()
	a.startScrub()
	a.startPreviewExpiry() // preview.go
	if err := a.openNotify(); err != nil {
		return err
	}
	a.openConfigs() // before the pipeline: a release accepted stores its phoenix.yaml
	// After the edge: runs resumed now may deploy and health-check.
	if err := a.openPipeline(ctx); err != nil {
		return err
	}
	if err := a.openMonitor(ctx); err != nil {
		return err
	}
	if err := a.startServers(); err != nil {
		return err
	}
	a.Backups.schedule() // last: a backup reports to the pipeline's events and the notifiers
	a.startSingletons()
	a.startReplication()
	a.startDone()
	return a.publishServerInfo()
}

func (a *App) openStore(ctx context.Context) error {
	db, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	a.onStop(func(context.Context) error { return db.Close() })
	a.DB = db
	db.Ephemeral("replicas") // heartbeats: a restored database runs no replica
	done, err := db.MigrateAll(ctx, migrations()...)
	a.logMigrated(done, err)
	return err
}

// logMigrated says, per domain, which migrations a start applied to the
// state store (an upgrade's), also those committed before one failed; of
// a new store, one line.
func (a *App) logMigrated(done []store.Migrated, err error) {
	type span struct {
		domain   string
		from, to int
	}
	var spans []span
	for _, m := range done {
		if n := len(spans); n > 0 && spans[n-1].domain == m.Domain {
			spans[n-1].to = m.Version
			continue
		}
		spans = append(spans, span{m.Domain, m.Version - 1, m.Version})
	}
	created := len(spans) == len(migrations())
	for _, s := range spans {
		created = created && s.from == 0
	}
	if created {
		a.log.Info("created the state store", "migrations", len(done))
		return
	}
	for _, s := range spans {
		a.log.Info("migrated the state store", "domain", s.domain, "from", s.from, "to", s.to)
	}
	if err != nil && len(done) > 0 {
		a.log.Error("a migration failed; those logged above are committed", "err", err)
	}
}

func (a *App) startServers() error {
	apiHandler := api.New(api.Options{Logger: a.log, Store: a.DB, Storage: a.storage, Explain: a.explainErr, Started: time.Now(), OIDC: a.sso,
		Deploy: a.Deploy, Auth: a.Auth, Audit: a.Audit, AuditKey: a.AuditKey.VerifierKey, EdgeURL: a.EdgeURL,
		Vault: a.Vault, Pipeline: a.Pipeline, Monitor: a.Monitor, Certificates: a.certs.list, CertWarning: a.opts.certWarning(),
		ConfigNeeds: a.configNeeds, Notifications: a.notifyHealth, NotifyTest: notifyTester{a}}) // notify_status.go
	for _, rt := range slices.Concat(a.backupRoutes(), a.storeRoutes(), a.replicaRoutes(), a.configRoutes(), a.signingRoutes()) {
		apiHandler.Handle(rt)
	}
	handler := apiHandler.Handler()
	if a.opts.Replica.On {
		handler = a.logsFromRunner(handler)
	}
	h, err := a.withDashboard(handler)
	if err != nil {
		return err
	}
	addr, err := a.serve("api", a.opts.Listen, withRealIP(h, a.opts.TrustedProxies))
	if err != nil {
		return err
	}
	a.apiAddr = addr
	a.log.Info("api listening", "url", a.APIURL())
	return nil
}

// withRealIP makes a forwarded client the request's RemoteAddr when the
// peer is one of trusted (edge.RealIP), so the sign-in limiter, the audit
// log and the request log see the client, not the load balancer.
func withRealIP(h http.Handler, trusted []netip.Prefix) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.UseRealIP(r, trusted)
		h.ServeHTTP(w, r)
	})
}

// serve listens on addr and serves h until Stop.
func (a *App) serve(name, addr string, h http.Handler) (net.Addr, error) {
	ln, err := a.listen(name, name, addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errc <- fmt.Errorf("%s server: %w", name, err)
		}
	}()
	a.onStop(func(ctx context.Context) error { return srv.Shutdown(ctx) })
	return ln.Addr(), nil
}

// EdgeURL is the URL an environment of a project answers on: its name
// under SitesDomain when one is set, else <env>.<project>.localhost.
func (a *App) EdgeURL(project, env string) string {
	if a.opts.SitesDomain != "" {
		return a.sitesURL(project, env)
	}
	return a.localURL(project, env)
}

// localURL is where this server reaches an environment on its own edge:
// <env>.<project>.localhost on the edge's port. Health checks of releases
// use it, so they do not depend on public DNS or a way back in from the
// outside.
func (a *App) localURL(project, env string) string {
	_, port, _ := net.SplitHostPort(a.edgeAddr.String())
	scheme := "http://"
	if a.edgeTLSOnly() { // else the *.localhost names stay on plain HTTP
		scheme = "https://"
	}
	return scheme + edge.DefaultHost(env, project) + ":" + port + "/"
}

// edgeTLSOnly reports whether the edge's one listener serves HTTPS
// (certificate files without --edge-tls-listen): the server's own probes
// then speak TLS to it, without verifying a certificate made for the
// public names.
func (a *App) edgeTLSOnly() bool { return len(a.opts.EdgeTLSCert) > 0 && a.opts.EdgeTLSListen == "" }

// sitesURL is an environment's URL under SitesDomain: HTTPS when the edge
// serves it (an HTTPS listener, or certificate files on the one listener),
// the port left out when it is the scheme's own.
func (a *App) sitesURL(project, env string) string {
	scheme, addr := "http", a.edgeAddr
	switch {
	case a.edgeTLSAddr != nil:
		scheme, addr = "https", a.edgeTLSAddr
	case a.edgeTLSOnly():
		scheme = "https"
	}
	host := edge.SitesHost(env, project, a.opts.SitesDomain)
	if _, port, _ := net.SplitHostPort(addr.String()); port != map[string]string{"http": "80", "https": "443"}[scheme] {
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host + "/"
}

// Err reports a server that stopped on its own.
func (a *App) Err() <-chan error { return a.errc }

// APIURL is the base URL of the API.
func (a *App) APIURL() string { return "http://" + a.apiAddr.String() }

// EdgeAddr is the edge's listening address, or nil.
func (a *App) EdgeAddr() net.Addr { return a.edgeAddr }

// EdgeTLSAddr is the edge's HTTPS address with EdgeTLSListen, or nil.
func (a *App) EdgeTLSAddr() net.Addr { return a.edgeTLSAddr }

func (a *App) onStop(fn func(context.Context) error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cleanups = append(a.cleanups, fn)
}

// Stop shuts everything down in reverse start order. It is idempotent.
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	a.stopped = true
	fns := a.cleanups
	a.cleanups = nil
	a.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		errs = append(errs, fns[i](ctx))
	}
	return errors.Join(errs...)
}
