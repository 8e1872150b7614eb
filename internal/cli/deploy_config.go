package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// handConfig hands the server the phoenix.yaml read as cfg (the file as
// written, path): its probes, alert rules, channels and health checks
// are then the project's, as a release's would be. A phoenix.yaml of
// another project (deploying with --project) is not handed over. A
// channel that did not load (a missing secret) is warned about.
func handConfig(ctx context.Context, g *Globals, c *client.Client, project, path string, cfg *config.Config) (*projectcfg.Summary, error) {
	if cfg == nil {
		return nil, nil
	}
	if cfg.Project.Name != project {
		fmt.Fprintf(g.Stderr, "note: %s is project %s's: its monitor, notifications and health checks are not handed to the server for %s\n",
			path, cfg.Project.Name, project)
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := c.PutConfig(ctx, project, b)
	if err != nil {
		return nil, err
	}
	if s.ChannelError != "" {
		fmt.Fprintf(g.Stderr, "warning: the notification channels of %s did not load: %s\n", project, s.ChannelError)
	}
	return s, nil
}

// configLine says what the server uses of the phoenix.yaml handed over:
// "phoenix.yaml in effect: 1 probe, 2 alert rules, 1 channel, health
// checks of production (updated)".
func configLine(s *projectcfg.Summary) string {
	parts := []string{count(len(s.Probes), "probe"), count(len(s.AlertRules), "alert rule"), count(len(s.Channels), "channel")}
	if envs := slices.Sorted(maps.Keys(s.HealthChecks)); len(envs) > 0 {
		parts = append(parts, "health checks of "+strings.Join(envs, ", "))
	} else {
		parts = append(parts, "no health checks (GET / must answer 200)")
	}
	state := "unchanged"
	if s.Changed {
		state = "updated"
	}
	return fmt.Sprintf("phoenix.yaml in effect: %s (%s)", strings.Join(parts, ", "), state)
}

// count is "1 probe", "2 probes", "no probes".
func count(n int, what string) string {
	switch n {
	case 0:
		return "no " + what + "s"
	case 1:
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
