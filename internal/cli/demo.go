package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/examples"
	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

type demoOptions struct {
	listen     string
	edgeListen string
	keep       bool
	exit       bool
}

func newDemoCmd(g *Globals) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the quickstart: a server plus an example site released end to end",
		Long: `Start an all-in-one Phoenix server on a fresh data dir, copy the bundled
example project (a small single-page app), and release it through the
pipeline: security gates, build, signed content-addressed artifact, deploy to
staging and production with atomic activation, and health checks. Then a
second release, an instant rollback and roll-forward, a broken release that
the server's verification rolls back, and an encrypted, restore-tested backup
of the whole server. Then print the URLs and serve until Ctrl-C. Needs only
Node.js for the example's build.`,
		Example: `  phoenix demo
  phoenix demo --edge-listen 127.0.0.1:9090
  phoenix demo --exit   # release, check, and stop (for scripts)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), g, o, g.givenOnCommandLine(cmd, "data"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7070", "address of the REST API (a free port is used if busy)")
	f.StringVar(&o.edgeListen, "edge-listen", "127.0.0.1:8080", "address of the edge (a free port is used if busy)")
	f.BoolVar(&o.keep, "keep", false, "keep the demo's data dir after exit")
	f.BoolVar(&o.exit, "exit", false, "stop after the release instead of serving until Ctrl-C")
	return cmd
}

func runDemo(ctx context.Context, g *Globals, o *demoOptions, dataGiven bool) error {
	out := g.Stdout
	work, err := os.MkdirTemp("", "phoenix-demo-")
	if err != nil {
		return err
	}
	if !o.keep && !dataGiven {
		// A kept data dir keeps the project its runs came from (a server
		// started on it again loads that project's workflows) and the backups.
		defer os.RemoveAll(work)
	}
	data := filepath.Join(work, "data")
	if dataGiven {
		data = g.Data
	}
	step(out, "starting a Phoenix server on a fresh data dir %s", data)
	bo, err := demoBackups(ctx, work)
	if err != nil {
		return err
	}
	a, err := startDemoServer(ctx, g, o, data, bo)
	if err != nil {
		return err
	}
	defer a.Stop(context.Background())
	proj := filepath.Join(work, "project")
	if err := examples.CopyTo(examples.Site(), proj); err != nil {
		return err
	}
	cfg, err := config.Load(filepath.Join(proj, "phoenix.yaml"))
	if err != nil {
		return err
	}
	tok, err := app.ReadToken(data)
	if err != nil {
		return err
	}
	c := client.New(a.APIURL(), tok)
	project := cfg.Project.Name
	a.Hosts.SetFallback(edgeNameOf(project, "production"))
	step(out, "releasing v1.0.0 through the pipeline: gates, build, signed artifact, staging then production")
	if err := demoRelease(ctx, out, c, proj, "v1.0.0", nil); err != nil {
		return err
	}
	for _, env := range []string{"staging", "production"} {
		if err := healthCheck(ctx, out, a, project, env, "v1.0.0"); err != nil {
			return err
		}
	}
	step(out, "releasing v1.1.0 to production only")
	if err := demoRelease(ctx, out, c, proj, "v1.1.0", []string{"production"}); err != nil {
		return err
	}
	if err := healthCheck(ctx, out, a, project, "production", "v1.1.0"); err != nil {
		return err
	}
	current, err := activeDeployment(ctx, c, project, "production")
	if err != nil {
		return err
	}
	if err := demoRollback(ctx, out, a, c, project, current); err != nil {
		return err
	}
	if err := demoBrokenDeploy(ctx, out, a, c, proj, project); err != nil {
		return err
	}
	if err := demoBackup(ctx, out, c, bo.Repo); err != nil {
		return err
	}
	gone := o.exit && !o.keep && !dataGiven // nothing left to sign in to or look at
	password := ""
	if !dataGiven && !gone { // a data dir of the user's own keeps its passwords
		if password, err = demoPassword(ctx, c); err != nil {
			return err
		}
	}
	printDemoURLs(out, a, cfg.Project.Name, data, password, o.exit, gone)
	if o.exit {
		if !gone {
			fmt.Fprintf(out, "\nThe server stops now (--exit); serve the data dir again with: phoenix server --data %s\n", data)
			fmt.Fprintf(out, "The example project is in %s, its backups in %s.\n", proj, bo.Repo)
		} else {
			fmt.Fprintln(out, "\nThe server stops now (--exit) and the demo's data dir is removed: with --keep it stays,")
			fmt.Fprintf(out, "to look at afterwards (phoenix runs --data DIR, phoenix report --project %s --data DIR).\n", cfg.Project.Name)
		}
		return nil
	}
	fmt.Fprintln(out, "\nServing until Ctrl-C.")
	return waitAndStop(ctx, a, func(string, ...any) {})
}

func edgeNameOf(project, env string) string { return env + "." + project }

// demoBackups makes the demo's backup repository, beside its data dir,
// with a random key that lives only as long as the demo.
func demoBackups(ctx context.Context, work string) (app.BackupOptions, error) {
	key, err := vault.GenerateMasterKey()
	if err != nil {
		return app.BackupOptions{}, err
	}
	repo := filepath.Join(work, "backups")
	r, err := backup.Init(ctx, repo, key.Bytes(), backup.DefaultKDF)
	if err != nil {
		return app.BackupOptions{}, err
	}
	r.Close()
	return app.BackupOptions{Repo: repo, Key: key, Schedule: "off"}, nil
}

// demoBackup backs the server up, as 'phoenix backup create' does.
func demoBackup(ctx context.Context, out io.Writer, c *client.Client, repo string) error {
	var res app.BackupResult
	if err := c.Do(ctx, "POST", client.Path("backups"), nil, &res); err != nil {
		return err
	}
	s := res.Snapshot
	step(out, "backed up the server into %s: snapshot %s, %d files (%s), encrypted, restore test %s, in %.1fs",
		repo, shortID(s.ID), s.Files, humanBytes(s.Size), res.RestoreTest, res.DurationSecs)
	return nil
}

// demoSoak is how long the demo's server verifies a deployment (a real
// server soaks 10s).
const demoSoak = 2 * time.Second

// startDemoServer starts the server on the wanted ports, or free ones.
func startDemoServer(ctx context.Context, g *Globals, o *demoOptions, data string, bo app.BackupOptions) (*app.App, error) {
	listen, edgeListen := o.listen, o.edgeListen
	for attempt := 0; ; attempt++ {
		a, err := app.New(app.Options{DataDir: data, Listen: listen, EdgeListen: edgeListen, Logger: newLogger(io.Discard, false),
			VerifySoak: demoSoak, Backup: bo})
		if err != nil {
			return nil, err
		}
		err = a.Start(ctx)
		if err == nil {
			return a, nil
		}
		if usererr.KindOf(err) != usererr.Usage || attempt > 0 {
			return nil, err
		}
		fmt.Fprintf(g.Stderr, "note: %v; using free ports instead\n", err)
		listen, edgeListen = "127.0.0.1:0", "127.0.0.1:0"
	}
}

// demoRelease releases the example through the server's pipeline, as
// 'phoenix release' does, printing the run's log indented.
func demoRelease(ctx context.Context, out io.Writer, c *client.Client, proj, version string, envs []string) error {
	run, err := c.Release(ctx, api.ReleaseRequest{Dir: proj, Version: version, Environments: envs})
	if err != nil {
		return err
	}
	lw := &indentWriter{w: out, prefix: "           "}
	if err := c.Logs(ctx, run.ID, "", true, lw); err != nil {
		return err
	}
	d, err := c.Run(ctx, run.ID)
	if err != nil {
		return err
	}
	if d.Status != pipeline.Succeeded {
		return usererr.New(usererr.Internal, "release run %d of %s %s: %s", d.ID, d.Version, d.Status, d.Message).
			WithHint("the example's build needs Node.js on PATH")
	}
	step(out, "run %d succeeded: %s is live on %s", d.ID, version, strings.Join(d.Environments, " and "))
	return nil
}

// indentWriter prefixes every line it writes.
type indentWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if !iw.mid {
			b.WriteString(iw.prefix)
		}
		b.WriteRune(c)
		iw.mid = c != '\n'
	}
	if _, err := io.WriteString(iw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// activeDeployment is the id of env's active deployment.
func activeDeployment(ctx context.Context, c *client.Client, project, env string) (int64, error) {
	var page api.Page[deploy.Deployment]
	if err := c.Do(ctx, "GET", client.Path("projects", project, "environments", env, "deployments")+"?limit=5", nil, &page); err != nil {
		return 0, err
	}
	for _, d := range page.Items {
		if d.Active {
			return d.ID, nil
		}
	}
	return 0, usererr.New(usererr.Internal, "%s has no active deployment", env)
}

// demoRollback rolls production back to the previous release and forward
// again, timing each from the API call until the edge serves it.
func demoRollback(ctx context.Context, out io.Writer, a *app.App, c *client.Client, project string, current int64) error {
	path := client.Path("projects", project, "environments", "production", "rollback")
	start := time.Now()
	var back api.DeploymentResponse
	if err := c.Do(ctx, "POST", path, api.RollbackRequest{}, &back); err != nil {
		return err
	}
	if err := healthCheck(ctx, io.Discard, a, project, "production", back.Release); err != nil {
		return err
	}
	step(out, "rolled production back to %s (deployment %d) in %s: a pointer swap, nothing rebuilt", back.Release, back.ID, time.Since(start).Round(time.Microsecond))
	start = time.Now()
	if err := c.Do(ctx, "POST", path, api.RollbackRequest{To: current}, &back); err != nil {
		return err
	}
	if err := healthCheck(ctx, io.Discard, a, project, "production", back.Release); err != nil {
		return err
	}
	step(out, "and forward to %s again in %s", back.Release, time.Since(start).Round(time.Microsecond))
	return nil
}

// healthCheck asks the edge for the environment's home page and checks it
// is this release.
func healthCheck(ctx context.Context, out io.Writer, a *app.App, project, env, release string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+a.EdgeAddr().String()+"/about", nil)
	req.Host = strings.TrimSuffix(strings.TrimPrefix(a.EdgeURL(project, env), "http://"), "/")
	req.Host = req.Host[:strings.LastIndexByte(req.Host, ':')]
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 || !strings.Contains(string(body), release) {
		return usererr.New(usererr.Internal, "health check of %s failed: %s", env, resp.Status)
	}
	step(out, "health check of %s passed: /about answers 200 with release %s (SPA fallback)", env, release)
	return nil
}

// demoPassword gives the demo's admin a random password for the
// dashboard. It is printed once, never stored in plaintext or logged.
func demoPassword(ctx context.Context, c *client.Client) (string, error) {
	pw := rand.Text()
	err := c.Do(ctx, "PUT", client.Path("users", "admin", "password"), api.PasswordRequest{Password: pw}, nil)
	return pw, err
}

// printDemoURLs prints where the demo's server answers: while it runs, or,
// with --exit, where it answered until it stopped; of a data dir about to
// be removed (gone), neither how to sign in nor what to try on it.
func printDemoURLs(out io.Writer, a *app.App, project, data, password string, exit, gone bool) {
	if exit {
		fmt.Fprintf(out, "\nPhoenix ran the demo at:\n")
	} else {
		fmt.Fprintf(out, "\nPhoenix is running.\n")
	}
	fmt.Fprintf(out, "  dashboard   %s/\n", a.APIURL())
	switch {
	case gone:
	case password != "":
		fmt.Fprintf(out, "              sign in as admin with password %s (shown only here)\n", password)
	default:
		fmt.Fprintf(out, "              sign in with a user that has a password (phoenix user passwd NAME)\n")
	}
	fmt.Fprintf(out, "  production  %s\n", a.EdgeURL(project, "production"))
	fmt.Fprintf(out, "              http://%s/ (the demo's default site)\n", a.EdgeAddr())
	fmt.Fprintf(out, "  staging     %s\n", a.EdgeURL(project, "staging"))
	fmt.Fprintf(out, "  API         %s/api/v1/health\n", a.APIURL())
	fmt.Fprintf(out, "  status page %s/status/\n", a.APIURL())
	if gone {
		return
	}
	fmt.Fprintf(out, "  admin token %s\n", filepath.Join(data, app.TokenFile))
	if exit { // the server is about to stop: what to try, without it
		fmt.Fprintf(out, "\nTry: phoenix deployments --env production --project %s --data %s\n", project, data)
		fmt.Fprintf(out, "     phoenix runs --data %s; phoenix report --project %s --data %s\n", data, project, data)
		return
	}
	fmt.Fprintf(out, "\nTry: curl -H 'Host: production.%s.localhost' http://%s/about\n", project, a.EdgeAddr())
	fmt.Fprintf(out, "     phoenix deployments --env production --project %s --server %s   (with PHOENIX_TOKEN)\n", project, a.APIURL())
	fmt.Fprintf(out, "     phoenix runs --server %s; phoenix status --server %s\n", a.APIURL(), a.APIURL())
}

func step(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
