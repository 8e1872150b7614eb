package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/channels"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The monitor sees every environment under its edge name, "<env>.<project>"
// (production.shop): probes, edge telemetry, alerts and the status page
// agree on it, and two projects' "production" never mix.

// openNotify starts the delivery of notifications (channels come from
// the projects' phoenix.yaml, see reconfigure).
func (a *App) openNotify() error {
	var err error
	a.Notify, err = notify.NewDispatcher(notify.Options{DB: a.DB, Logger: a.log.With("domain", "notify")})
	if err != nil {
		return err
	}
	a.singleton(a.Notify.Run)
	return nil
}

// openMonitor starts probes, telemetry and alerts, and the verification
// of every activation that no pipeline run verifies itself.
func (a *App) openMonitor(ctx context.Context) error {
	var err error
	o := monitor.Options{DB: a.DB, Logger: a.log.With("domain", "monitor"), Publisher: a.publisher(),
		Edge: a.Edge.Snapshot, Proc: a.opts.Proc, Audit: a.auditMonitor}
	o.Certificates, o.CertWarning = a.certAlerts(), a.opts.certWarning()          // certificates.go
	o.CertOrders, o.CertOrderAlert = a.certOrderAlerts(), a.opts.certOrderAlert() // certificates.go
	o.Backups = a.backupHealth                                                    // the built-in backup-overdue alert (backup_status.go)
	o.Blobs = a.blobHealth                                                        // the built-in blob-damaged alert (scrub.go)
	o.Undeliverable = a.undeliverable                                             // the built-in notify-undeliverable alert (notify_status.go)
	o.Storage = a.storageAlerts                                                   // the built-in disk-low and store-write-failing alerts (storehealth.go)
	if a.opts.Replica.On {
		o.Replicas = a.otherEdges         // the other replicas' edges (replica_telemetry.go)
		o.ReplicaHealth = a.replicaHealth // the built-in replica-down alert
	}
	a.Monitor, err = monitor.New(o)
	if err != nil {
		return err
	}
	a.projects = &projectConfigs{cfg: map[string]*config.Config{}, entry: map[string]*projectcfg.Entry{},
		chanErr: map[string]error{}, guards: map[string]*monitor.Guard{}, unread: map[string]int64{}}
	if err := a.loadProjects(ctx); err != nil {
		return err
	}
	a.singleton(func(ctx context.Context) {
		if a.opts.Replica.On {
			a.reloadProjects(ctx) // configurations stored elsewhere since this replica started
		}
		a.Monitor.Run(ctx)
	})
	gctx, cancel := context.WithCancel(context.Background())
	a.Deploy.OnActivate(a.afterActivate(gctx))
	a.Deploy.OnRollback(a.announceRollback) // rollback_alert.go
	a.singleton(a.resumeVerifications)      // verify.go
	a.onStop(func(context.Context) error {
		cancel()
		a.projects.wait()
		return nil
	})
	return nil
}

// background runs fn until Stop.
func (a *App) background(fn func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fn(ctx) }()
	a.onStop(func(context.Context) error { cancel(); <-done; return nil })
}

// projectConfigs is what the server knows of each project: its
// phoenix.yaml (projectconfig.go) and the Guard that verifies its
// deployments.
type projectConfigs struct {
	mu      sync.Mutex
	cfg     map[string]*config.Config
	entry   map[string]*projectcfg.Entry // where cfg came from; nil: the latest run's folder
	chanErr map[string]error             // why a project's channels did not load (reconfigure)
	secrets string                       // the Stamp of the secrets the channels were built with (notify_secrets.go)
	unread  map[string]int64             // the stored revision that did not parse: not read again until it changes
	guards  map[string]*monitor.Guard
	wg      sync.WaitGroup
	// applying serializes reconfigure from its snapshot of cfg to the
	// monitor's and dispatcher's setters: two calls at once could
	// otherwise apply the older snapshot last, and the channels and
	// probes would silently go back to it.
	applying sync.Mutex
}

func (p *projectConfigs) get(project string) *config.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg[project]
}

func (p *projectConfigs) wait() {
	p.wg.Wait()
	p.mu.Lock()
	gs := make([]*monitor.Guard, 0, len(p.guards))
	for _, g := range p.guards {
		gs = append(gs, g)
	}
	p.mu.Unlock()
	for _, g := range gs {
		g.Wait()
	}
}

// projectConfigs returns a copy of the known projects' configs, by
// project, taken under the lock.
func (a *App) projectConfigs() map[string]*config.Config {
	a.projects.mu.Lock()
	defer a.projects.mu.Unlock()
	return maps.Clone(a.projects.cfg)
}

// reconfigure gives the monitor the probes and alert rules, and the
// dispatcher the channels, of every known project.
func (a *App) reconfigure() {
	a.projects.applying.Lock()
	defer a.projects.applying.Unlock()
	cfgs := a.projectConfigs()
	stamp := a.secretsStamp(context.Background(), slices.Collect(maps.Values(cfgs)))
	var targets []monitor.Target
	var rules []monitor.Rule
	chans := map[string]notify.Channel{}
	deployed := a.deployedEnvs()
	chanErr := map[string]error{}
	for project, cfg := range cfgs {
		targets = append(targets, a.projectTargets(project, cfg, deployed)...)
		rules = append(rules, projectRules(project, cfg, rules)...)
		err := serverEnvRefs(cfg)
		var chs map[string]notify.Channel
		if err == nil {
			chs, err = channels.FromConfig(cfg.Notifications, a.systemSecret, nil)
		}
		if err != nil {
			a.log.Error("notify: channels of the project not loaded", "project", project, "err", err)
			chanErr[project] = err
			continue
		}
		for name, ch := range chs {
			ch.Takes = func(m notify.Message) bool { return forProject(m, project) }
			chans[project+"/"+name] = ch
		}
	}
	if err := a.Monitor.SetTargets(targets); err != nil {
		a.log.Error("monitor: probes not set", "err", err)
	}
	a.Monitor.SetRules(rules)
	a.Notify.SetChannels(chans)
	a.projects.mu.Lock()
	a.projects.chanErr, a.projects.secrets = chanErr, stamp
	a.projects.mu.Unlock()
}

// undelivered says why no channel of project took a notification (for
// channel, or for every subscribed one when channel is "").
func (a *App) undelivered(project, channel string) string {
	if a.projects == nil {
		return "the server's monitor and channels are not running yet"
	}
	a.projects.mu.Lock()
	cfg, err := a.projects.cfg[project], a.projects.chanErr[project]
	a.projects.mu.Unlock()
	switch {
	case err != nil:
		return "the project's notification channels did not load: " + err.Error()
	case cfg == nil || len(cfg.Notifications.Channels) == 0:
		return "phoenix.yaml has no notifications.channels"
	case channel != "":
		return fmt.Sprintf("phoenix.yaml has no channel %q in notifications.channels", channel)
	}
	return "no channel in notifications.channels subscribes to this event"
}

// projectTargets returns the project's probes. A probe of an environment
// that serves no deployment yet (production before its first release) is
// left out until one is activated: it would only record the edge's 404 as
// downtime, fire availability alerts and charge the SLA for a site that
// was never there. deployed nil (unknown) keeps every probe.
func (a *App) projectTargets(project string, cfg *config.Config, deployed map[string]bool) []monitor.Target {
	var out []monitor.Target
	for _, e := range cfg.Monitor.Endpoints {
		if e.Environment != "" && deployed != nil && !deployed[edgeName(project, e.Environment)] {
			continue
		}
		t, err := monitor.FromEndpoint(e, "", a.baseOf(project))
		if err != nil {
			a.log.Error("monitor: probe not set", "project", project, "probe", e.Name, "err", err)
			continue
		}
		if t.Environment != "" {
			t.Environment = edgeName(project, t.Environment)
		}
		out = append(out, t)
	}
	return out
}

// deployedEnvs returns the edge names of the environments that serve a
// deployment, or nil when the store cannot say.
func (a *App) deployedEnvs() map[string]bool {
	envs, err := a.Deploy.Environments(context.Background(), "")
	if err != nil {
		a.log.Error("monitor: cannot read which environments are deployed; probing all", "err", err)
		return nil
	}
	out := make(map[string]bool, len(envs))
	for _, e := range envs {
		if e.ActiveID != 0 {
			out[edgeName(e.Project, e.Name)] = true
		}
	}
	return out
}

// projectRules scopes a project's rules to its environments; host rules
// (cpu, memory) are the machine's and kept once.
func projectRules(project string, cfg *config.Config, have []monitor.Rule) []monitor.Rule {
	var out []monitor.Rule
	for _, r := range monitor.RulesFromConfig(cfg.Monitor) {
		switch {
		case r.Metric == "cpu_usage" || r.Metric == "memory_usage":
			if !slices.ContainsFunc(append(have, out...), func(h monitor.Rule) bool { return h.Name == r.Name }) {
				out = append(out, r)
			}
		case r.Environment != "":
			r.Environment = edgeName(project, r.Environment)
			out = append(out, r)
		default:
			for env := range cfg.Environments {
				r.Environment = edgeName(project, env)
				out = append(out, r)
			}
		}
	}
	return out
}

// forProject reports whether m belongs on project's channels: a message
// naming a project goes to that project's; an alert's, which names only
// the monitor's environment (<env>.<project>), to the project of that
// environment; the server's own (host, certificate, replica and backup
// alerts, backups) to every project's.
func forProject(m notify.Message, project string) bool {
	if m.Project != "" {
		return m.Project == project
	}
	if monitor.ServerInstance(m.Environment) {
		return true
	}
	_, p, ok := strings.Cut(m.Environment, ".")
	return !ok || p == project
}

// systemSecret reads a secret the server itself needs (a channel's
// webhook URL), as the "notify" pipeline in a production context.
func (a *App) systemSecret(name string) (string, error) {
	v, _, err := a.Vault.Get(context.Background(), vault.Subject{Actor: "phoenix:notify", Pipeline: "notify", Production: true}, name, 0)
	if err != nil {
		return "", err
	}
	return v.Reveal(), nil
}

// baseOf resolves an environment of project to the edge's address, with
// the environment's default host and the probe marker (probeHeaders).
func (a *App) baseOf(project string) monitor.Resolver {
	return func(env string) (monitor.Base, error) {
		if a.edgeAddr == nil {
			return monitor.Base{}, errors.New("the edge is not listening")
		}
		host, port, _ := net.SplitHostPort(a.edgeAddr.String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		h := a.probeHeaders()
		h["Host"] = edge.DefaultHost(env, project)
		b := monitor.Base{URL: "http://" + net.JoinHostPort(host, port), Headers: h}
		if a.edgeTLSOnly() { // the one listener speaks TLS, with the public names' certificate
			b.URL, b.Insecure = "https://"+net.JoinHostPort(host, port), true
		}
		return b, nil
	}
}

// probeHeaders mark a request as the server's own probe of its edge
// (edge.Options.ProbeToken): it passes the environment's allow-list and
// rate limits, so restricting who may reach a site never fails its
// health checks. The token is random per process and never leaves it.
func (a *App) probeHeaders() map[string]string {
	return map[string]string{edge.ProbeHeader: a.probeToken}
}

// edgeOf is the edge's telemetry of project's environments, under their
// plain names, for the verifier.
func (a *App) edgeOf(project string) func() []edge.EnvStats {
	return func() []edge.EnvStats {
		var out []edge.EnvStats
		for _, s := range a.Edge.Snapshot() {
			if env, ok := strings.CutSuffix(s.Env, "."+project); ok {
				s.Env = env
				out = append(out, s)
			}
		}
		return out
	}
}

// afterActivate reloads the project's configuration and verifies the
// activation (verify.go) when it is pending verification: not when a
// pipeline run made it (the run verifies with its health-check steps and
// rolls back itself) nor when it is a rollback.
func (a *App) afterActivate(ctx context.Context) deploy.Listener {
	return func(r deploy.Release) {
		a.projects.wg.Add(1)
		go func() {
			defer a.projects.wg.Done()
			a.loadProject(ctx, r.Project)
			a.reconfigure()
			if r.Deployment.Verification != deploy.VerifyPending {
				return
			}
			a.verify(ctx, r)
		}()
	}
}

// logSkipped logs a verification that published nothing: stopped with
// the server (still pending, so verified again at the next start), or
// superseded.
func (a *App) logSkipped(r deploy.Release, why string) {
	args := []any{"project", r.Project, "env", r.Environment, "deployment", r.Deployment.ID}
	if why == monitor.Interrupted {
		a.log.Warn("verify: interrupted by shutdown; nothing published nor rolled back, the deployment stays pending verification and the next start verifies it again", args...)
		return
	}
	a.log.Info("verify: the deployment was superseded during its verification (rolled back or replaced); nothing published nor rolled back", args...)
}

// guardOf returns the project's Guard, made on first use.
func (a *App) guardOf(ctx context.Context, project string) *monitor.Guard {
	a.projects.mu.Lock()
	defer a.projects.mu.Unlock()
	if g := a.projects.guards[project]; g != nil {
		return g
	}
	soak, every := a.opts.VerifySoak, time.Second
	if soak > 0 && soak < 4*time.Second {
		every = max(soak/4, 50*time.Millisecond)
	}
	g := &monitor.Guard{
		Verifier: monitor.NewVerifier(monitor.VerifyOptions{Base: a.baseOf(project), Edge: a.edgeOf(project), Soak: soak,
			Every: every, Logger: a.log.With("component", "verify")}),
		Publisher: a.publisher(),
		Timeout:   verifyTimeout,
		Rollback:  a.revert, // rollback_alert.go
		Active: func(ctx context.Context, p, e string) (int64, time.Time, error) {
			env, err := a.Deploy.Environment(ctx, p, e)
			if err != nil || env.LiveSince == nil {
				return env.ActiveID, time.Time{}, err
			}
			return env.ActiveID, *env.LiveSince, nil
		},
		Checks: func(p, e string) ([]config.Endpoint, config.RollbackPolicy) {
			if cfg := a.projects.get(p); cfg != nil && cfg.Environments[e] != nil {
				return cfg.Environments[e].HealthChecks, cfg.Environments[e].Rollback
			}
			return nil, config.RollbackPolicy{Auto: true}
		},
		OnEvent: func(m notify.Message) {
			a.Pipeline.Events().Publish(ctx, trigger.Event{Name: m.Event, Project: m.Project, Environment: m.Environment,
				Data: map[string]string{"title": m.Title}})
		},
	}
	a.projects.guards[project] = g
	return g
}

// publisher is where the monitor's and the deployments' messages go:
// the dispatcher, with a button to the dashboard's page of what a message
// is about when the server has a --public-url (dashboardLinks).
func (a *App) publisher() monitor.Publisher {
	return linkingPublisher{next: a.Notify, public: a.opts.PublicURL}
}

// linkingPublisher adds dashboardLinks to each message it passes on.
type linkingPublisher struct {
	next   monitor.Publisher
	public string
}

func (p linkingPublisher) Publish(ctx context.Context, m notify.Message, only ...string) ([]string, error) {
	m.Links = append(m.Links, dashboardLinks(p.public, m)...)
	return p.next.Publish(ctx, m, only...)
}

// dashboardLinks are the dashboard's pages (at public, Options.PublicURL)
// that show what m is about: an alert's, the alerts page (where it is
// acknowledged or silenced) and, for an environment's, the environment's
// page (its probes, alerts and deployments); a deployment's verdict or
// rollback, the environment's page. None without a public URL, nor for
// an event the dashboard has no page of.
func dashboardLinks(public string, m notify.Message) []notify.Link {
	if public == "" {
		return nil
	}
	var out []notify.Link
	if strings.HasPrefix(m.Event, "alert.") {
		out = append(out, notify.Link{Title: "Alerts in Phoenix", URL: public + "/ui/alerts"})
	}
	if (strings.HasPrefix(m.Event, "alert.") || strings.HasPrefix(m.Event, "deploy.")) && m.Project != "" && m.Environment != "" &&
		!monitor.ServerInstance(m.Environment) { // notify-undeliverable's (notify:shop/teams) is no environment
		out = append(out, notify.Link{Title: m.Project + "/" + m.Environment + " in Phoenix",
			URL: public + "/ui/envs/" + url.PathEscape(m.Project) + "/" + url.PathEscape(m.Environment)})
	}
	return out
}

// pipelineNotifier hands the pipeline's notifications to the server log
// and the dispatcher.
type pipelineNotifier struct {
	log   action.LogNotifier
	d     *notify.Dispatcher
	why   func(project, channel string) string                                   // App.undelivered
	links func(ctx context.Context, project string, envs []string) []notify.Link // App.releaseLinks
	// public is Options.PublicURL: a message about a run links its page.
	public string
}

func (p pipelineNotifier) Notify(ctx context.Context, n action.Notification) error {
	p.log.Notify(ctx, n)
	title := n.Message
	if title == "" {
		title = fmt.Sprintf("%s %s: %s", n.Project, n.Version, n.Event)
	}
	m := notify.Message{Event: n.Event, Severity: n.Severity, Title: title, Text: n.Text, Project: n.Project, Environment: n.Environment,
		Time: time.Now().UTC()}
	if n.Run != "" {
		m.ID = "run-" + n.Run + "-" + n.Event + "-" + n.Environment
		m.Facts = append(m.Facts, notify.Fact{Name: "Run", Value: n.Run})
	}
	if n.Version != "" {
		m.Facts = append(m.Facts, notify.Fact{Name: "Release", Value: n.Version})
	}
	if len(n.Environments) > 0 && p.links != nil {
		m.Links = p.links(ctx, n.Project, n.Environments)
	}
	if n.Run != "" && p.public != "" {
		m.Links = append(m.Links, notify.Link{Title: "Run " + n.Run, URL: p.public + "/ui/runs/" + url.PathEscape(n.Run)})
	}
	var only []string
	if n.Channel != "" {
		only = []string{n.Project + "/" + n.Channel}
	}
	took, err := p.d.Publish(ctx, m, only...)
	if err == nil && len(took) == 0 {
		return &action.NotDelivered{Reason: p.why(n.Project, n.Channel)}
	}
	return err
}
