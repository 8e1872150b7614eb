package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/activation"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

type serverOptions struct {
	listen        string
	scrubEvery    time.Duration // --store-scrub-every; 0: off
	scrubRate     int           // --store-scrub-rate, MiB a second; 0: no limit
	edgeListen    string
	debug         bool
	masterKeyFile string
	edgeCert      []string
	edgeKey       []string
	hsts          time.Duration
	hstsSub       bool
	edgeLoops     loopsFlag
	edgeIdle      time.Duration
	edgeMaxConns  int
	geoIPDB       string
	proxies       string
	metricsAllow  string
	sitesDomain   string
	publicURL     string
	diskAlertFree string

	backupRepo          string
	backupKeyFile       string
	stepSandbox         string
	backupSchedule      string
	backupKeep          string
	backupNoRestoreTest bool
	backupMirror        mirrorFlags

	blobs    blobFlags      // server_blobs.go
	database databaseFlags  // server_database.go
	acme     acmeFlags      // server_acme.go
	runs     retentionFlags // server_retention.go
	oidc     oidcFlags      // server_oidc.go
	access   accessLogFlags // server_accesslog.go
}

func newServerCmd(g *Globals) *cobra.Command {
	o := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Phoenix server: API, dashboard, edge and background work",
		Long: `Run the all-in-one Phoenix server on one data dir: the REST API and the web
dashboard on --listen, and the edge serving every environment on --edge-listen.
Each environment answers at http://<env>.<project>.localhost:<edge port>/ unless
it has its own domains.

Only one server may use a data dir at a time. SIGINT or SIGTERM shuts it down
gracefully: in-flight requests finish first.`,
		Example: `  phoenix server --data /var/lib/phoenix
  PHOENIX_LISTEN=0.0.0.0:7070 phoenix server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd.Context(), g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7070", "address of the REST API and the dashboard")
	f.StringVar(&o.edgeListen, "edge-listen", "127.0.0.1:8080", "address of the edge serving the sites")
	f.BoolVar(&o.debug, "debug", false, "log at debug level")
	f.StringArrayVar(&o.edgeCert, "edge-tls-cert", nil, "PEM certificate chain: the edge serves HTTPS and HTTP/2 (with --edge-tls-key); repeat the pair for certificates of other names (chosen by SNI, else the first)")
	f.StringArrayVar(&o.edgeKey, "edge-tls-key", nil, "PEM private key of --edge-tls-cert (one per certificate, in the same order)")
	durationVar(f, &o.hsts, "hsts", 0, "send Strict-Transport-Security with this max-age on every site's answers over HTTPS, e.g. 8760h (0: off)")
	f.BoolVar(&o.hstsSub, "hsts-include-subdomains", false, hstsSubHelp)
	f.Var(&o.edgeLoops, "edge-loops", loopsHelp)
	durationVar(f, &o.edgeIdle, "edge-idle-timeout", 2*time.Minute, idleTimeoutHelp)
	f.IntVar(&o.edgeMaxConns, "edge-max-conns-per-ip", 0, maxConnsHelp)
	f.StringVar(&o.proxies, "trusted-proxies", "", trustedProxiesHelp+"; for the edge and the API")
	f.StringVar(&o.metricsAllow, "edge-metrics-allow", "", metricsAllowHelp)
	f.StringVar(&o.sitesDomain, "sites-domain", "", sitesDomainHelp)
	f.StringVar(&o.publicURL, "public-url", "", publicURLHelp)
	f.StringVar(&o.diskAlertFree, "disk-alert-free", app.DefaultDiskAlertFree, diskAlertFreeHelp)
	f.StringVar(&o.geoIPDB, "geoip-db", "", "MaxMind country database (.mmdb) for projects' edge.waf.geo_allow and geo_deny (docs/waf.md)")
	f.StringVar(&o.masterKeyFile, "master-key-file", "", "unseal the vault at start with the key in this file (0600); default $PHOENIX_MASTER_KEY, else start sealed")
	f.StringVar(&o.backupRepo, "backup-repo", "", "back up the data dir into this repository ('phoenix backup init'; docs/backup.md)")
	f.StringVar(&o.backupKeyFile, "backup-key-file", "", "file holding the backup repository's key (0600); default $"+BackupKeyEnv)
	f.StringVar(&o.backupSchedule, "backup-schedule", "daily", "when to back up: hourly, daily, weekly, monthly, a cron expression, or off")
	f.StringVar(&o.backupKeep, "backup-keep", "90d", "keep snapshots this long (the newest is always kept)")
	f.BoolVar(&o.backupNoRestoreTest, "backup-skip-restore-test", false, "do not restore-test each backup")
	f.StringVar(&o.stepSandbox, "step-sandbox", "auto", stepSandboxHelp)
	f.StringVar(&o.backupMirror.url, "backup-mirror", "", "copy the repository after each backup to s3://bucket/prefix (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	f.StringVar(&o.backupMirror.endpoint, "backup-mirror-endpoint", "", "S3 API URL of S3-compatible storage for --backup-mirror (default: AWS)")
	f.StringVar(&o.backupMirror.region, "backup-mirror-region", "", "region of --backup-mirror (default $AWS_REGION, else us-east-1)")
	durationVar(f, &o.scrubEvery, "store-scrub-every", app.DefaultScrubEvery,
		"read back every blob retained deployments use this often and alert on a damaged one (phoenix store verify; 0: never)")
	f.IntVar(&o.scrubRate, "store-scrub-rate", app.DefaultScrubRate>>20, "the scheduled blob check reads at most this many MiB a second (0: no limit)")
	addBlobFlags(f, &o.blobs)
	addDatabaseFlags(f, &o.database)
	addACMEFlags(f, &o.acme)
	addRetentionFlags(f, &o.runs)
	addOIDCFlags(f, &o.oidc)
	addAccessLogFlags(f, &o.access, "edge-")
	return cmd
}

func runServer(ctx context.Context, g *Globals, o *serverOptions) error {
	name := g.flagOrEnv // a refused value names its flag, or the PHOENIX_* variable that gave it
	if err := checkScrubFlags(name, o); err != nil {
		return err
	}
	if err := checkTLSPairs(name("edge-tls-cert"), o.edgeCert, name("edge-tls-key"), o.edgeKey); err != nil {
		return err
	}
	if err := checkIdleTimeout(name("edge-idle-timeout"), o.edgeIdle); err != nil {
		return err
	}
	if err := checkMaxConns(name("edge-max-conns-per-ip"), o.edgeMaxConns); err != nil {
		return err
	}
	log := newLogger(g.Stderr, o.debug)
	if err := protectProcess(); err != nil {
		log.Warn("could not make the server non-dumpable: its steps may read its environment through /proc", "err", err)
	}
	key, err := serverMasterKey(o.masterKeyFile)
	if err != nil {
		return masterKeyError(name("master-key-file"), err)
	}
	bo, err := backupServerOptions(o, name)
	if err != nil {
		return err
	}
	blobs, err := o.blobs.open(name)
	if err != nil {
		return err
	}
	dbURL, err := o.database.take(name)
	if err != nil {
		return err
	}
	acme, err := o.acme.options(name)
	if err != nil {
		return err
	}
	certWarning, err := o.acme.certWarning(name)
	if err != nil {
		return err
	}
	orderAlert, err := o.acme.certOrderAlert(name)
	if err != nil {
		return err
	}
	diskAlert, err := parseDiskAlertFree(name("disk-alert-free"), o.diskAlertFree) // server_disk.go
	if err != nil {
		return err
	}
	runs, err := o.runs.retention(name)
	if err != nil {
		return err
	}
	sso, err := o.oidc.config(name)
	if err != nil {
		return err
	}
	proxies, err := parseRanges(name("trusted-proxies"), o.proxies)
	if err != nil {
		return err
	}
	metricsAllow, err := parseRanges(name("edge-metrics-allow"), o.metricsAllow)
	if err != nil {
		return err
	}
	sites, err := parseSitesDomain(name("sites-domain"), o.sitesDomain) // sites.go
	if err != nil {
		return err
	}
	public, err := parsePublicURL(name("public-url"), o.publicURL) // publicurl.go
	if err != nil {
		return err
	}
	access, err := o.access.options(name)
	if err != nil {
		return err
	}
	if access.Path == "" || access.Path == "-" {
		// SIGHUP reopens the access log file (systemctl reload); with no
		// file to reopen it must not end the server, as its default would.
		signal.Ignore(syscall.SIGHUP)
	}
	socks, err := activation.Listeners() // started with phoenix-*.socket: systemd's sockets
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error()).
			WithHint("check the .socket units: one ListenStream= per FileDescriptorName= (api, edge, edge-tls); docs/operations.md")
	}
	if err := scrubEnviron(takenFromEnv); err != nil {
		log.Warn("could not remove the keys from the server's environment in /proc: steps running as root may read them", "err", err)
	}
	if err := scrubArgs(store.DSNSecrets(dbURL)); err != nil {
		log.Warn("could not hide --database-url's password from ps", "err", err)
	}
	a, err := app.New(app.Options{DataDir: g.Data, Listen: o.listen, Listeners: socks, EdgeListen: o.edgeListen, Logger: log, MasterKey: key,
		EdgeTLSCert: o.edgeCert, EdgeTLSKey: o.edgeKey, EdgeHeaders: edge.SecurityHeaders(edge.HSTS{MaxAge: o.hsts, IncludeSubdomains: o.hstsSub}), EdgeLoops: int(o.edgeLoops), EdgeIdleTimeout: o.edgeIdle, EdgeMaxConnsPerIP: o.edgeMaxConns, Backup: bo,
		BlobStore: blobs, DatabaseURL: dbURL, Replica: app.ReplicaOptions{On: o.database.replica, Advertise: o.database.advertise},
		EdgeTLSListen: o.acme.tlsListen, ACME: acme, CertWarning: certWarning, CertOrderAlert: orderAlert, DiskAlertFree: diskAlert, RunRetention: runs, OIDC: sso, GeoIPDB: o.geoIPDB,
		TrustedProxies: proxies, EdgeMetricsAllow: metricsAllow, SitesDomain: sites, PublicURL: public, EdgeAccessLog: access, FlagName: name,
		StepSandbox: o.stepSandbox, StepHidden: o.stepHidden(), ScrubEvery: offIfZero(o.scrubEvery), ScrubRate: scrubRate(o.scrubRate)})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	log.Info("phoenix server started", "data", g.Data, "api", a.APIURL(), "dashboard", a.APIURL()+"/")
	return waitAndStop(ctx, a, log.Info)
}

// waitAndStop blocks until ctx ends or a server fails, then stops a.
func waitAndStop(ctx context.Context, a *app.App, info func(string, ...any)) error {
	var runErr error
	select {
	case <-ctx.Done():
		info("shutting down")
	case runErr = <-a.Err():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil && runErr == nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return runErr
}

// masterKeyError is the usage error of a master key that could not be
// read from the file flag names; a file that does not exist gets the hint
// of where a key comes from (not to make a new one for a vault that has
// one: only the key it was made with opens it).
func masterKeyError(flag string, err error) error {
	e := usererr.Wrap(usererr.Usage, err, flag+": "+err.Error())
	if errors.Is(err, fs.ErrNotExist) {
		e = e.WithHint("give the key file the vault was made with; a new vault's is made with phoenix vault init --generate-key-file FILE (docs/vault.md)")
	}
	return e
}

// serverMasterKey reads the vault key from PHOENIX_MASTER_KEY or file. No
// key is not an error: the server then starts with its vault sealed.
func serverMasterKey(file string) (vault.Secret, error) { return takeKey(vault.MasterKeyEnv, file) }

// takeKey reads a key from the environment variable env, else from file
// (when given), and removes the variable from the environment so that no
// process the server starts (pipeline steps, hooks) inherits it. Neither
// gives the zero Secret and no error.
func takeKey(env, file string) (vault.Secret, error) {
	key, ok := vault.MasterKeyFromEnv(env)
	os.Unsetenv(env)
	if ok || file == "" {
		return key, nil
	}
	return loadKeyFile(file)
}

// checkScrubFlags refuses negative --store-scrub-every and --store-scrub-rate.
func checkScrubFlags(name func(string) string, o *serverOptions) error {
	if o.scrubEvery < 0 {
		return usererr.New(usererr.Usage, "%s %s is negative", name("store-scrub-every"), compactDuration(o.scrubEvery)).WithHint("give a duration such as 7d, or 0 to never check")
	}
	if o.scrubRate < 0 {
		return usererr.New(usererr.Usage, "%s %d is negative", name("store-scrub-rate"), o.scrubRate).WithHint("give MiB a second, or 0 for no limit")
	}
	return nil
}

// offIfZero maps the flag's 0 (never) to the app's negative (never).
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// scrubRate is --store-scrub-rate in bytes a second, 0 (no limit) as the
// app's negative.
func scrubRate(mib int) int64 {
	if mib == 0 {
		return -1
	}
	return int64(mib) << 20
}
