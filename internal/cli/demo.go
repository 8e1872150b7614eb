package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/examples"
	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
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
example project (a small single-page app), and release it through every stage:
build, signed content-addressed artifact, deploy to staging and production with
atomic activation, and a health check. Then print the URLs and serve until
Ctrl-C. Needs only Node.js for the example's build.`,
		Example: `  phoenix demo
  phoenix demo --edge-listen 127.0.0.1:9090
  phoenix demo --exit   # release, check, and stop (for scripts)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), g, o, cmd.Flags().Changed("data"))
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
	if !o.keep {
		defer os.RemoveAll(work)
	}
	data := filepath.Join(work, "data")
	if dataGiven {
		data = g.Data
	}
	step(out, "starting a Phoenix server on a fresh data dir %s", data)
	a, err := startDemoServer(ctx, g, o, data)
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
	if err := declareEnvs(ctx, c, cfg.Project.Name, cfg); err != nil {
		return err
	}
	a.Hosts.SetFallback(edgeNameOf(cfg.Project.Name, "production"))
	for _, env := range []string{"staging", "production"} {
		if _, err := demoRelease(ctx, out, a, c, cfg, proj, "v1.0.0", env); err != nil {
			return err
		}
	}
	next, err := demoRelease(ctx, out, a, c, cfg, proj, "v1.1.0", "production")
	if err != nil {
		return err
	}
	if err := demoRollback(ctx, out, a, c, cfg.Project.Name, next); err != nil {
		return err
	}
	printDemoURLs(out, a, cfg.Project.Name, data)
	if o.exit {
		return nil
	}
	fmt.Fprintln(out, "\nServing until Ctrl-C.")
	return waitAndStop(ctx, a, func(string, ...any) {})
}

func edgeNameOf(project, env string) string { return env + "." + project }

// startDemoServer starts the server on the wanted ports, or free ones.
func startDemoServer(ctx context.Context, g *Globals, o *demoOptions, data string) (*app.App, error) {
	listen, edgeListen := o.listen, o.edgeListen
	for attempt := 0; ; attempt++ {
		a, err := app.New(app.Options{DataDir: data, Listen: listen, EdgeListen: edgeListen, Logger: newLogger(io.Discard, false)})
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

// demoRelease builds, packs and deploys the example to one environment,
// then checks it answers.
func demoRelease(ctx context.Context, out io.Writer, a *app.App, c *client.Client, cfg *config.Config, proj, release, env string) (*client.DeployResult, error) {
	step(out, "building %s for %s: %s", release, env, cfg.Build.Command)
	cmd := exec.CommandContext(ctx, "sh", "-c", cfg.Build.Command)
	cmd.Dir = proj
	cmd.Env = append(os.Environ(), "PHOENIX_RELEASE="+release)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, usererr.Wrap(usererr.Internal, err, fmt.Sprintf("example build failed: %v\n%s", err, b)).
			WithHint("the example's build needs Node.js on PATH")
	}
	outDir := filepath.Join(proj, cfg.Build.Output)
	m, err := artifact.Build(ctx, outDir, a.Blobs, artifact.BuildOptions{Meta: artifact.Meta{Project: cfg.Project.Name, Release: release}})
	if err != nil {
		return nil, err
	}
	canon, err := m.Canonical()
	if err != nil {
		return nil, err
	}
	step(out, "artifact of %d files; deploying to %s", len(m.Files), env)
	res, err := c.Deploy(ctx, client.DeployRequest{Project: cfg.Project.Name, Environment: env, Manifest: canon, Blobs: a.Blobs,
		Message: "phoenix demo"})
	if err != nil {
		return nil, err
	}
	step(out, "deployment %d of %s is live, artifact %s (signed, %d blobs)", res.ID, env, short(string(res.Artifact)), res.Total)
	return res, healthCheck(ctx, out, a, cfg.Project.Name, env, release)
}

// demoRollback rolls production back to the previous release and forward
// again, timing each from the API call until the edge serves it.
func demoRollback(ctx context.Context, out io.Writer, a *app.App, c *client.Client, project string, current *client.DeployResult) error {
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
	if err := c.Do(ctx, "POST", path, api.RollbackRequest{To: current.ID}, &back); err != nil {
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

func printDemoURLs(out io.Writer, a *app.App, project, data string) {
	fmt.Fprintf(out, "\nPhoenix is running.\n")
	fmt.Fprintf(out, "  production  %s\n", a.EdgeURL(project, "production"))
	fmt.Fprintf(out, "              http://%s/ (the demo's default site)\n", a.EdgeAddr())
	fmt.Fprintf(out, "  staging     %s\n", a.EdgeURL(project, "staging"))
	fmt.Fprintf(out, "  API         %s/api/v1/health\n", a.APIURL())
	fmt.Fprintf(out, "  admin token %s\n", filepath.Join(data, app.TokenFile))
	fmt.Fprintf(out, "\nTry: curl -H 'Host: production.%s.localhost' http://%s/about\n", project, a.EdgeAddr())
	fmt.Fprintf(out, "     phoenix deployments --env production --project %s --server %s   (with PHOENIX_TOKEN)\n", project, a.APIURL())
}

func step(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
