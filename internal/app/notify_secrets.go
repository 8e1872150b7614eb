package app

import (
	"context"
	"maps"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify/channels"
)

// SecretsChannel is the database notification by which a server
// announces that a vault secret changed (the payload is its name, never
// a value): the others reload the notification channels that read it.
const SecretsChannel = "phoenix_secrets"

// secretChanged is the vault's OnChange: a secret was set, rotated,
// disabled, deleted, recovered or purged. The channels that read it are
// built again at once, here and (announced) on the other replicas: a
// channel whose webhook URL's secret was missing loads, and one whose
// secret was rotated sends to the new URL, without handing phoenix.yaml
// over again.
func (a *App) secretChanged(ctx context.Context, name string) {
	if a.opts.Replica.On {
		if err := a.DB.Notify(ctx, SecretsChannel, name); err != nil {
			a.log.Warn("replicas: cannot announce a changed secret; the others see it at their next poll", "name", name, "err", err)
		}
	}
	a.reloadChannelsOf(ctx, name)
}

// reloadChannelsOf reloads the channels when those of a project read
// secret name; a secret no channel reads changes nothing.
func (a *App) reloadChannelsOf(ctx context.Context, name string) {
	if a.projects == nil {
		return
	}
	cfgs := slices.Collect(maps.Values(a.projectConfigs()))
	if slices.Contains(channelSecrets(cfgs), name) {
		a.reloadChannels(ctx)
	}
}

// channelSecrets returns the vault secrets the channels of cfgs read.
func channelSecrets(cfgs []*config.Config) []string {
	var out []string
	for _, c := range cfgs {
		out = append(out, channels.SecretNames(c.Notifications)...)
	}
	return out
}

// secretsStamp is the vault's Stamp of the secrets the channels of cfgs
// read, for a replica (on a lone server every change passes through its
// own vault, which says so: ""). It is taken before the channels are
// built from them, so a change made meanwhile is seen at the next poll.
func (a *App) secretsStamp(ctx context.Context, cfgs []*config.Config) string {
	if !a.opts.Replica.On || a.Vault == nil {
		return ""
	}
	s, err := a.Vault.Stamp(ctx, channelSecrets(cfgs))
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("notify: cannot read the state of the channels' secrets", "err", err)
		}
		return ""
	}
	return s
}

// syncChannelSecrets is a replica's poll for changes to the channels'
// secrets that another replica made and whose announcement did not
// reach this one: the channels are reloaded when the secrets' stamp
// differs from the one they were built with.
func (a *App) syncChannelSecrets(ctx context.Context) {
	if a.projects == nil {
		return
	}
	a.projects.mu.Lock()
	cfgs, built := slices.Collect(maps.Values(a.projects.cfg)), a.projects.secrets
	a.projects.mu.Unlock()
	if s := a.secretsStamp(ctx, cfgs); s != "" && s != built {
		a.reloadChannels(ctx)
	}
}
