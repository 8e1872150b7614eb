package app

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// configNeeds returns the environments on which handing the server cfg
// needs deploy besides a release's own (api.Options.ConfigNeeds): none
// when cfg keeps the project's notification channels, else every
// environment of the project, those on the server and those cfg declares.
// The channels read their secret: references as production, so changing
// them with a credential limited to staging would send production's
// secrets (an SMTP password, a webhook URL) wherever the new file says.
func (a *App) configNeeds(ctx context.Context, cfg *config.Config) ([]string, error) {
	if err := serverEnvRefs(cfg); err != nil {
		return nil, err
	}
	project := cfg.Project.Name
	a.projects.mu.Lock()
	stored := a.projects.cfg[project]
	a.projects.mu.Unlock()
	var before map[string]*config.Channel
	if stored != nil {
		before = stored.Notifications.Channels
	}
	if sameChannels(before, cfg.Notifications.Channels) {
		return nil, nil
	}
	return a.everyEnvironment(ctx, project, cfg)
}

// everyEnvironment returns the environments of project's cfg (nil: none)
// and those the server has, sorted: where a change of its channels, or
// their test, needs deploy.
func (a *App) everyEnvironment(ctx context.Context, project string, cfg *config.Config) ([]string, error) {
	var envs []string
	if cfg != nil {
		envs = cfg.EnvironmentNames()
	}
	onServer, err := a.Deploy.Environments(ctx, project)
	if err != nil {
		return nil, err
	}
	for _, e := range onServer {
		if !slices.Contains(envs, e.Name) {
			envs = append(envs, e.Name)
		}
	}
	slices.Sort(envs)
	return envs, nil
}

// sameChannels reports whether two sets of channels are the same, none
// and an empty set alike.
func sameChannels(a, b map[string]*config.Channel) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// serverEnvRefs refuses channel fields of cfg that read one of the
// server's own credentials (ServerOnlyEnv) with env:NAME: whoever may
// change the channels would receive it (an SMTP password goes to the
// host the file names).
func serverEnvRefs(cfg *config.Config) error {
	for _, name := range slices.Sorted(maps.Keys(cfg.Notifications.Channels)) {
		ch := cfg.Notifications.Channels[name]
		if ch == nil {
			continue
		}
		refs := map[string]config.SecretRef{"url": ch.URL, "secret": ch.Secret}
		if ch.SMTP != nil {
			refs["smtp.password"] = ch.SMTP.Password
		}
		for _, field := range slices.Sorted(maps.Keys(refs)) {
			if ref := refs[field]; ref.Source == "env" && ServerOnlyEnv(ref.Name) {
				return usererr.New(usererr.Invalid, "notifications.channels.%s.%s: env:%s is the server's own credential, which no channel may read",
					name, field, ref.Name).WithHint("store the value with 'phoenix secret set NAME' and write secret:NAME")
			}
		}
	}
	return nil
}
