package spec

import (
	"errors"
	"sort"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
)

// ValidateConfig checks the release plan of cfg for envs and every
// workflow (steps and cron triggers) and returns one Problems error listing
// everything wrong, each problem prefixed with where it is.
func ValidateConfig(cfg *config.Config, envs []string, known func(string) bool) error {
	var all Problems
	collect := func(where string, err error) {
		if err == nil {
			return
		}
		var ps Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				p.Message = where + ": " + p.String()
				p.Step, p.Hint = "", ""
				all = append(all, p)
			}
			return
		}
		all = append(all, Problem{Message: where + ": " + err.Error()})
	}
	for _, env := range envs {
		if _, ok := cfg.Environments[env]; !ok {
			all = append(all, Problem{Message: "release: unknown environment " + env,
				Hint: "declare it under environments: in phoenix.yaml"})
		}
	}
	if full, err := fullPlan(cfg, envs); err != nil {
		collect("pipeline", err)
	} else if p, err := FromConfig(cfg, envs); err != nil {
		collect("pipeline", err)
	} else {
		// Every stage is checked, those the release leaves out too; what
		// is left must not act on another environment.
		collect("pipeline", Validate(full, known))
		all = append(all, Outside(p, envs)...)
		all = append(all, unserved(p, envs)...)
	}
	names := make([]string, 0, len(cfg.Workflows))
	for name := range cfg.Workflows {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w := cfg.Workflows[name]
		if w == nil {
			continue
		}
		p, err := FromWorkflow(name, w)
		if err != nil {
			collect("workflows."+name, err)
		} else {
			collect("workflows."+name, Validate(p, known))
		}
		for _, t := range w.Triggers {
			if t.Cron != "" {
				if _, err := trigger.ParseCron(t.Cron, t.TZ); err != nil {
					collect("workflows."+name+".triggers", err)
				}
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}
