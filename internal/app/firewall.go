package app

import (
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// firewall builds the edge's Firewall for a project's edge.waf settings:
// nil when the mode is off. It is called for every publish of an
// environment of a project with a policy, and when a policy is set (so a
// firewall it cannot build refuses the policy with this error).
func (a *App) firewall(w config.WAF) (edge.Firewall, error) {
	if w.Mode == "" || w.Mode == "off" {
		return nil, nil
	}
	return nil, usererr.New(usererr.Invalid, "edge.waf: the firewall is not built into this server yet").
		WithHint("set edge.waf.mode to off (or remove edge.waf) until this server has one")
}
