package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// retentionFlags say which finished pipeline runs the server prunes
// (docs/pipelines.md, Retention).
type retentionFlags struct {
	maxAge string // "90d"; "off" keeps every run
	keep   int
}

func addRetentionFlags(f *pflag.FlagSet, rf *retentionFlags) {
	f.StringVar(&rf.maxAge, "run-retention", "90d", `prune finished pipeline runs (logs, files, rows) older than this, e.g. 30d or 12w; "off" keeps them all`)
	f.IntVar(&rf.keep, "run-keep", pipeline.DefaultKeepRuns, "always keep each project's newest runs, however old")
}

// retention is the app's RunRetention from --run-retention and --run-keep;
// a refused value is named by name (Globals.flagOrEnv).
func (rf retentionFlags) retention(name func(flag string) string) (pipeline.Retention, error) {
	if rf.keep < 1 {
		return pipeline.Retention{}, usererr.New(usererr.Usage, "%s %d: keep at least 1 run per project", name("run-keep"), rf.keep).
			WithHint("set %s50 (the default), or %soff to keep every run", setting(name("run-keep")), setting(name("run-retention")))
	}
	r := pipeline.Retention{Keep: rf.keep}
	switch s := strings.TrimSpace(rf.maxAge); s {
	case "off":
		r.MaxAge = -1
	default:
		d, err := config.ParseDuration(s)
		if err != nil || d < time.Hour {
			return r, usererr.New(usererr.Usage, "%s %q is not a duration of an hour or more", name("run-retention"), rf.maxAge).
				WithHint(`write e.g. "90d" or "12w", or "off" to keep every run`)
		}
		r.MaxAge = d
	}
	return r, nil
}
