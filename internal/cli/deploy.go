package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/project"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type deployOptions struct {
	env      string
	project  string
	config   string
	message  string
	release  string
	parallel int
	preview  string
	link     bool
	pubkey   string
}

func newDeployCmd(g *Globals) *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy DIR|ARTIFACT --env ENV",
		Short: "Upload what the server lacks and activate it atomically",
		Long: `Deploy a built folder (or an artifact file made by 'phoenix artifact build')
to an environment. The manifest goes first; the server answers with the blobs
it lacks and only those are uploaded, in parallel. An interrupted deploy is
resumed by running it again. The switch to the new release is atomic, and the
previous one stays ready for 'phoenix rollback'.

The project and its environments come from ./phoenix.yaml unless --project is
given.`,
		Example: `  phoenix deploy dist --env staging
  phoenix deploy release.tar --env production --project shop
  phoenix deploy dist --preview feature/login     # its own environment and host name
  phoenix deploy dist --env staging -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDeploy(cmd.Context(), g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.env, "env", "e", "", "environment to deploy to (required)")
	f.StringVarP(&o.project, "project", "p", "", "project name (default: project.name in phoenix.yaml)")
	f.StringVarP(&o.config, "config", "c", "phoenix.yaml", "project file")
	f.StringVarP(&o.message, "message", "m", "", "note recorded with the deployment")
	f.StringVar(&o.release, "release", "", "release name recorded in the manifest, e.g. v1.4.2")
	f.IntVar(&o.parallel, "parallel", 4, "concurrent blob uploads")
	f.BoolVar(&o.link, "link", false, "hard-link the folder's files into the blob store instead of copying (fastest; the folder\n"+
		"becomes read-only and must be rebuilt, never edited in place, afterwards: fine for dist/)")
	f.StringVar(&o.pubkey, "pubkey", "", "an artifact file's signature must verify with this minisign public key\n"+
		"(default: the server's signing key, GET /api/v1/signing-key)")
	f.StringVar(&o.preview, "preview", "", "deploy to a preview environment for this branch or release (created on first use)")
	cmd.MarkFlagsOneRequired("env", "preview")
	cmd.MarkFlagsMutuallyExclusive("env", "preview")
	return cmd
}

// projectSpec resolves the project name and declares its environments.
func (g *Globals) projectSpec(o *deployOptions) (string, *config.Config, error) {
	cfg, err := config.Load(o.config)
	if err != nil && !os.IsNotExist(unwrapAll(err)) {
		return "", nil, err
	}
	name := o.project
	if name == "" && cfg != nil {
		name = cfg.Project.Name
	}
	if name == "" {
		return "", nil, usererr.New(usererr.Usage, "no project: %s not found and no --project given", o.config).
			WithHint("run 'phoenix init' or pass --project NAME")
	}
	return name, cfg, nil
}

// projectTarget resolves the project and connects to its server; the
// caller closes the target.
func (g *Globals) projectTarget(ctx context.Context, o *deployOptions) (string, *config.Config, *target, error) {
	project, cfg, err := g.projectSpec(o)
	if err != nil {
		return "", nil, nil, err
	}
	t, err := g.connect(ctx)
	return project, cfg, t, err
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// declareEnvs sends the environments of phoenix.yaml to the server, and
// its edge: section, the project's edge policy (none clears it). The
// environment deployed to (target) goes first and must be accepted. Every
// other one is declared too, so a change to its domains or allow-list
// applies at this deploy; re-declaring one needs deploy on it (changing
// it, env.write), which a user or token limited to staging lacks on
// production: an environment the server refuses so is left as it holds
// it, with a note on notes saying why, rather than the deploy to staging
// refused.
func declareEnvs(ctx context.Context, c *client.Client, project, target string, cfg *config.Config, notes io.Writer) error {
	if cfg == nil {
		return nil
	}
	names := slices.Sorted(maps.Keys(cfg.Environments))
	if i := slices.Index(names, target); i > 0 {
		names = slices.Insert(slices.Delete(names, i, i+1), 0, target)
	}
	for _, name := range names {
		e := cfg.Environments[name]
		req := api.EnvRequest{Locked: e.Protection.Lock, Approvals: e.Protection.Approvals, Domains: e.Domains, IPAllow: e.IPAllow,
			PromoteFrom: e.PromoteFrom}
		err := c.Do(ctx, "PUT", client.Path("projects", project, "environments", name), req, nil)
		if err != nil && name != target && usererr.KindOf(err) == usererr.Forbidden {
			fmt.Fprintf(notes, "note: phoenix.yaml's environment %s left as the server holds it: %s\n", name, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	policy, err := cfg.Edge.Canonical()
	if err != nil {
		return err
	}
	if policy == nil {
		policy = []byte("{}")
	}
	return c.Do(ctx, "PUT", client.Path("projects", project, "edge"), policy, nil)
}

func runDeploy(ctx context.Context, g *Globals, o *deployOptions, src string) error {
	project, cfg, t, err := g.projectTarget(ctx, o)
	if err != nil {
		return err
	}
	defer t.close()
	// phoenix.yaml first: a file the server refuses changes nothing, and
	// the activation's verification reads its health checks.
	handed, err := handConfig(ctx, g, t.client, project, o.config, cfg)
	if err != nil {
		return err
	}
	if err := declareEnvs(ctx, t.client, project, o.env, cfg, g.Stderr); err != nil {
		return err
	}
	if o.preview != "" {
		if o.env, err = declarePreview(ctx, t.client, project, o.preview); err != nil {
			return err
		}
	}
	created, err := createdFromEnv()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(src); o.release == "" && err == nil && fi.IsDir() {
		if o.release = releaseFromGit(ctx, src); o.release != "" {
			fmt.Fprintf(g.Stderr, "release %s (the git tag at HEAD; --release names another)\n", o.release)
		}
	}
	start := time.Now()
	files := 0
	stage := func() ([]byte, error) {
		m, err := buildOrImport(ctx, g, t, src, o.pubkey, artifact.BuildOptions{
			Meta: artifact.Meta{Project: project, Release: o.release, Created: created}, LinkFiles: o.link,
			Exclude: leftOut(g, src, o.config)})
		if err != nil {
			return nil, err
		}
		files = len(m.Files)
		return m.Canonical()
	}
	dres, err := stageAndDeploy(stage, func(canon []byte) (*client.DeployResult, error) {
		return t.client.Deploy(ctx, client.DeployRequest{Project: project, Environment: o.env, Manifest: canon,
			Blobs: t.blobs, Message: o.message, Parallel: o.parallel, Progress: newBar(g.Stderr, "uploading")})
	})
	if err != nil {
		return err
	}
	res := deploySummary{DeployResult: dres, Files: files, Present: dres.Total - dres.Sent, Config: handed, sameStore: t.sameStore}
	return g.emit(res, func(w io.Writer) error {
		fmt.Fprintf(w, "deployed %s to %s/%s as deployment %d in %s\n", res.Artifact, project, o.env, res.ID,
			time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(w, "  %s\n", res.counts())
		if handed != nil {
			fmt.Fprintf(w, "  %s\n", configLine(handed))
		}
		switch {
		case t.inProcess:
			fmt.Fprintf(w, "  no server runs on %s: 'phoenix server --data %s' serves it and verifies it\n", g.Data, g.Data)
		case res.URL != "":
			fmt.Fprintf(w, "  live at %s\n", res.URL)
		}
		return nil
	})
}

// deploySummary is what 'phoenix deploy' reports: the client's result
// (blobs_total counts the precompressed variants too) with the site's own
// file count and the blobs the server already had.
type deploySummary struct {
	*client.DeployResult
	Files   int `json:"files"`
	Present int `json:"blobs_present"`
	// Config is what the server uses of the phoenix.yaml handed over.
	Config *projectcfg.Summary `json:"config,omitempty"`
	// sameStore: the build wrote the blobs into the server's own store
	// (a server on this data dir), so none was uploaded.
	sameStore bool
}

// counts is the summary line: "6 files, 14 blobs: 14 uploaded (12.3 KiB),
// 0 already on the server"; on the server's machine, where the build
// writes into the server's store, "6 files, 14 blobs, stored straight in
// the server's store" (it said "0 uploaded, 14 already on the server" of
// a first deploy).
func (r deploySummary) counts() string {
	if r.sameStore {
		return fmt.Sprintf("%d files, %d blobs, stored straight in the server's store (its data dir is on this machine)", r.Files, r.Total)
	}
	return fmt.Sprintf("%d files, %d blobs: %d uploaded (%s), %d already on the server",
		r.Files, r.Total, r.Sent, humanBytes(r.SentBytes), r.Present)
}

// stageAndDeploy stages the release's blobs and deploys it. A staged blob
// can vanish before the upload names it: the server's garbage collection
// leaves blobs staged within the last hour, but a blob the build found
// already stored (and so did not touch) or a build over an hour long is
// not covered. The deploy then fails with the blob not found in the
// staging store; by then the server holds the open upload, which protects
// every blob of the manifest, so staging again and deploying again (the
// server resumes the same upload) cannot lose it twice.
func stageAndDeploy(stage func() ([]byte, error), deploy func([]byte) (*client.DeployResult, error)) (*client.DeployResult, error) {
	canon, err := stage()
	if err != nil {
		return nil, err
	}
	res, err := deploy(canon)
	if !errors.Is(err, backend.ErrNotFound) {
		return res, err
	}
	if canon, err = stage(); err != nil {
		return nil, err
	}
	return deploy(canon)
}

// declarePreview creates the preview environment of a branch or release:
// "preview-" and the name folded into a DNS label, answering on its own
// host name.
func declarePreview(ctx context.Context, c *client.Client, project, name string) (string, error) {
	env := "preview-" + previewSlug(name)
	err := c.Do(ctx, "PUT", client.Path("projects", project, "environments", env), api.EnvRequest{Kind: "preview"}, nil)
	return env, err
}

// previewSlug folds a branch name such as feature/Login_2 into feature-login-2.
func previewSlug(name string) string {
	b := make([]byte, 0, len(name))
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, byte(c))
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	s := strings.Trim(string(b), "-")
	if len(s) > 54 {
		s = strings.TrimRight(s[:54], "-")
	}
	return s
}

// buildOrImport turns a folder or an artifact file into a manifest whose
// blobs are in the target's staging store.
func buildOrImport(ctx context.Context, g *Globals, t *target, src, pubkey string, opts artifact.BuildOptions) (*artifact.Manifest, error) {
	if err := pathArg("folder or artifact file", src); err != nil {
		return nil, err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "%s: %v", src, err)
	}
	if !fi.IsDir() {
		return importArtifact(ctx, src, pubkey, t)
	}
	if pubkey != "" {
		return nil, usererr.New(usererr.Usage, "--pubkey checks an artifact file's signature; %s is a folder, which the server signs", src)
	}
	warnMissingFiles(g.Stderr, src)
	b := newBar(g.Stderr, "building")
	defer b.Done()
	cache := filepath.Join(t.blobs.Root(), "..", "build-cache", cacheName(src))
	opts.CacheFile = cache
	opts.Progress = func(p artifact.Progress) { b.set(p.Bytes, p.TotalBytes) }
	m, err := artifact.Build(ctx, src, t.blobs, opts)
	if err != nil && usererr.KindOf(err) == usererr.Internal {
		return nil, usererr.Wrap(usererr.Failed, err, err.Error())
	}
	if err != nil { // a folder to fix (an empty one: exit code 2) keeps its kind and hint
		return nil, err
	}
	return m, nil
}

// leftOut returns what a deploy of the folder src leaves out of the site
// (artifact.BuildOptions.Exclude): a checkout's .git always, and when src
// is the project folder (that of the phoenix.yaml in use, -c) that file
// too, said on stderr, as a release of a folder of static files does.
func leftOut(g *Globals, src, config string) []string {
	dir, err1 := filepath.Abs(src)
	own, err2 := filepath.Abs(filepath.Dir(config))
	if err1 != nil || err2 != nil || dir != own {
		return []string{project.GitDir}
	}
	name := filepath.Base(config)
	fmt.Fprintf(g.Stderr, "%s is the project folder: %s and %s left out of the site\n", src, name, project.GitDir)
	return project.OwnFiles(name)
}

// cacheName is a stable file name for a source folder's build cache.
func cacheName(dir string) string {
	abs, _ := filepath.Abs(dir)
	return fmt.Sprintf("%x.cache", sumString(abs))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
