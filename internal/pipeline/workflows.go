package pipeline

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// webhook is a registered webhook trigger.
type webhook struct {
	dir, workflow string
	auth          string
	secret        config.SecretRef
}

// RegisterProject makes the workflows of the project in dir live: cron
// schedules, webhooks (POST /hooks/PROJECT/WORKFLOW) and event
// subscriptions. It replaces what was registered for the project before
// and is remembered across restarts.
func (s *Service) RegisterProject(ctx context.Context, dir string, cfg *config.Config) error {
	project := cfg.Project.Name
	at := s.ts(s.now())
	_, err := s.opts.DB.ExecContext(ctx, `INSERT INTO pipeline_projects (name, dir, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET dir = excluded.dir, updated_at = excluded.updated_at`, project, dir, at)
	if err != nil {
		return fmt.Errorf("pipeline: register %s: %w", project, err)
	}
	s.mu.Lock()
	s.known[project] = at
	s.mu.Unlock()
	return s.register(ctx, dir, cfg)
}

// register makes the project's workflows live in this server.
func (s *Service) register(ctx context.Context, dir string, cfg *config.Config) error {
	project := cfg.Project.Name
	s.unregister(project)
	var errs []string
	for name, w := range cfg.Workflows {
		if w == nil {
			continue
		}
		for i, t := range w.Triggers {
			if err := s.registerTrigger(ctx, dir, project, name, i, t); err != nil {
				errs = append(errs, fmt.Sprintf("workflows.%s.triggers[%d]: %v", name, i, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (s *Service) registerTrigger(ctx context.Context, dir, project, name string, i int, t config.Trigger) error {
	start := func(ctx context.Context, how string, in Inputs) (int64, error) {
		r, err := s.StartWorkflow(ctx, WorkflowRequest{Dir: dir, Workflow: name, Trigger: how, Inputs: in, Actor: "phoenix:" + how})
		if err != nil {
			s.log.Warn("workflow not started", "project", project, "workflow", name, "trigger", how, "err", err)
			return 0, err
		}
		return r.ID, nil
	}
	switch {
	case t.Cron != "":
		return s.sched.Add(ctx, trigger.Schedule{Key: fmt.Sprintf("%s/%s#%d", project, name, i), Expr: t.Cron, TZ: t.TZ,
			Fire: func(ctx context.Context, at time.Time) {
				start(ctx, "cron", Inputs{Values: map[string]string{"tick": at.UTC().Format(time.RFC3339)}})
			}})
	case t.Webhook != nil:
		s.mu.Lock()
		s.hooks[project+"/"+name] = webhook{dir: dir, workflow: name, auth: t.Webhook.Auth, secret: t.Webhook.Secret}
		s.mu.Unlock()
	case t.Event != "":
		unsub := s.opts.Events.Subscribe(t.Event, project, t.Environment, func(ctx context.Context, ev trigger.Event) {
			start(ctx, "event", Inputs{Event: ev.Name, Environment: ev.Environment, Values: ev.Data})
		})
		s.mu.Lock()
		s.unsubs[project] = append(s.unsubs[project], unsub)
		s.mu.Unlock()
	}
	return nil
}

// unregister drops the project's triggers.
func (s *Service) unregister(project string) {
	s.sched.Remove(project + "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.hooks {
		if strings.HasPrefix(k, project+"/") {
			delete(s.hooks, k)
		}
	}
	for _, u := range s.unsubs[project] {
		u()
	}
	delete(s.unsubs, project)
}

// loadProjects re-registers the projects known from earlier releases.
func (s *Service) loadProjects(ctx context.Context) {
	s.mu.Lock()
	clear(s.known)
	s.mu.Unlock()
	s.syncProjects(ctx)
}

// registerFrom makes the workflows of the project in dir live again, from
// its phoenix.yaml, as registered at at.
func (s *Service) registerFrom(ctx context.Context, name, dir, at string) {
	s.mu.Lock()
	s.known[name] = at
	s.mu.Unlock()
	cfg, err := config.Load(filepath.Join(dir, "phoenix.yaml"))
	if err == nil {
		err = s.register(ctx, dir, cfg)
	}
	if err != nil {
		s.log.Warn("pipeline: workflows of a project not loaded", "project", name, "err", err)
	}
}

// Webhooks is the handler for POST /hooks/PROJECT/WORKFLOW (mount it at
// /hooks/). Secrets are resolved per request through the secret source
// (secret:NAME) or the server's environment (env:NAME). A refused
// delivery is audited as pipeline.webhook.denied and triggers nothing;
// a hook's refusals within a minute of one audited are counted into the
// next one audited instead (denials.go).
func (s *Service) Webhooks() http.Handler {
	lookup := func(name string) (trigger.Hook, bool) {
		s.mu.Lock()
		h, ok := s.hooks[name]
		s.mu.Unlock()
		if !ok {
			return trigger.Hook{}, false
		}
		secret, err := s.hookSecret(context.Background(), h.secret)
		if err != nil {
			s.log.Warn("webhook secret unavailable", "hook", name, "err", err)
			return trigger.Hook{}, false
		}
		if problem, hint := config.WebhookSecretProblem(h.secret, secret); problem != "" {
			return trigger.Hook{Auth: h.auth, Refuse: problem + ": every delivery is refused until it is replaced (" + hint + ")"}, true
		}
		return trigger.Hook{Auth: h.auth, Secret: secret, Fire: func(ctx context.Context, p trigger.Payload) (int64, error) {
			r, err := s.StartWorkflow(ctx, WorkflowRequest{Dir: h.dir, Workflow: h.workflow, Trigger: "webhook",
				Actor: firstNonEmpty(p.Actor, "webhook"),
				Inputs: Inputs{Webhook: name, Event: p.Event, Ref: p.Ref, Tag: p.Tag,
					Values: map[string]string{"commit": p.Commit, "repo": p.Repo, "branch": p.Branch}}})
			if err != nil {
				return 0, err
			}
			return r.ID, nil
		}}, true
	}
	denied := func(ctx context.Context, d trigger.Denial) {
		record, held, evicted := s.denials.admit(d.Hook, s.now())
		if evicted > 0 {
			s.log.Warn("webhooks refused, not recorded one by one", "refused", evicted)
			s.auditDenied(ctx, "hooks", fmt.Sprintf("%d refused deliveries of hooks no longer counted, not recorded one by one", evicted))
		}
		if !record {
			return
		}
		detail := d.Reason + " from " + d.Remote
		if held > 0 {
			detail += fmt.Sprintf(" (and %d more refused since the last one recorded, not recorded one by one)", held)
		}
		s.log.Warn("webhook refused", "hook", d.Hook, "reason", d.Reason, "remote", d.Remote, "held_back", held)
		s.auditDenied(ctx, d.Hook, detail)
	}
	return trigger.WebhookHandler(lookup, denied)
}

// hookSecret resolves a webhook's secret through the secret source
// (secret:NAME) or the server's environment (env:NAME).
func (s *Service) hookSecret(ctx context.Context, ref config.SecretRef) (string, error) {
	return ref.Resolve(func(n string) (string, error) {
		if s.opts.Deps.Secrets == nil {
			return "", fmt.Errorf("no secret source")
		}
		return s.opts.Deps.Secrets.Secret(ctx, n)
	})
}

// checkHookSecrets refuses the webhook triggers of cfg whose secret is
// too short (config.MinWebhookSecret), as far as they can be resolved
// now: one that cannot (a sealed vault, a secret not set yet) is checked
// when a delivery arrives.
func (s *Service) checkHookSecrets(ctx context.Context, cfg *config.Config) error {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(cfg.Workflows)) {
		w := cfg.Workflows[name]
		if w == nil {
			continue
		}
		for i, t := range w.Triggers {
			if t.Webhook == nil {
				continue
			}
			secret, err := s.hookSecret(ctx, t.Webhook.Secret)
			if err != nil {
				continue
			}
			if problem, hint := config.WebhookSecretProblem(t.Webhook.Secret, secret); problem != "" {
				problems = append(problems, fmt.Sprintf("workflows.%s.triggers[%d].webhook.secret: %s (hint: %s)", name, i, problem, hint))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return usererr.New(usererr.Usage, "%s", strings.Join(problems, "\n")).
		WithHint("a webhook secret needs %d characters or more; make one with: openssl rand -hex 32", config.MinWebhookSecret)
}

// auditDenied records refused webhook deliveries of target.
func (s *Service) auditDenied(ctx context.Context, target, detail string) {
	if err := s.audit(ctx, nil, AuditEvent{Action: "pipeline.webhook.denied", Target: target, Outcome: "Denied", Detail: detail}); err != nil {
		s.log.Error("audit", "err", err)
	}
}
