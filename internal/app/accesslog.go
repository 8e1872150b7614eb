package app

import (
	"context"
	"syscall"

	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// AccessLogOptions turn on the edge's access log (docs/edge.md "Access
// log"): one JSON line per request the edge answers.
type AccessLogOptions struct {
	// Path is the file ("-": standard output; "": no access log).
	Path string
	// MaxSize rotates the file past this many bytes (default 100 MiB);
	// Keep rotated files are kept (default 10).
	MaxSize int64
	Keep    int
}

// openAccessLog opens Options.EdgeAccessLog (nil when off), reopening its
// file on SIGHUP; Stop closes it after the edge's servers stopped.
func (a *App) openAccessLog() (*edge.AccessLog, error) {
	o := a.opts.EdgeAccessLog
	if o.Path == "" {
		return nil, nil
	}
	l, err := edge.OpenAccessLog(o.Path, edge.AccessLogOptions{MaxSize: o.MaxSize, Keep: o.Keep, Logger: a.log.With("component", "edge")})
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, a.opts.flag("edge-access-log")+" "+o.Path+": "+err.Error()).
			WithHint("create its directory, make it writable by this user, or give another file (- for standard output)")
	}
	stop := func() {}
	if o.Path != "-" {
		stop = l.ReopenOn(syscall.SIGHUP)
	}
	a.onStop(func(context.Context) error {
		stop()
		return l.Close()
	})
	return l, nil
}
