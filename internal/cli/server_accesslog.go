package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// accessLogFlags turn on the edge's access log (docs/edge.md "Access
// log"); prefix is "edge-" on phoenix server and "" on phoenix serve.
type accessLogFlags struct {
	prefix string
	path   string
	maxMiB int
	keep   int
}

func addAccessLogFlags(f *pflag.FlagSet, o *accessLogFlags, prefix string) {
	o.prefix = prefix
	f.StringVar(&o.path, prefix+"access-log", "", "write one JSON line per request answered to this file (- for standard output; off by default)")
	f.IntVar(&o.maxMiB, prefix+"access-log-max-size", 100, "rotate the access log to FILE.1 when it would exceed this many MiB")
	f.IntVar(&o.keep, prefix+"access-log-keep", 10, "rotated access logs kept (FILE.1 … FILE.N)")
}

// options checks the flags: sizes at least 1, and the file's directory an
// existing directory (writability is checked when the file is opened). A
// refused value is named by name (Globals.flagOrEnv).
func (o *accessLogFlags) options(name func(flag string) string) (app.AccessLogOptions, error) {
	flag := name(o.prefix + "access-log")
	if o.maxMiB < 1 {
		return app.AccessLogOptions{}, usererr.New(usererr.Usage, "%s %d: rotate at 1 MiB or more", name(o.prefix+"access-log-max-size"), o.maxMiB).
			WithHint("the default is 100 (MiB)")
	}
	if o.keep < 1 {
		return app.AccessLogOptions{}, usererr.New(usererr.Usage, "%s %d: keep at least 1 rotated file", name(o.prefix+"access-log-keep"), o.keep).
			WithHint("the default is 10")
	}
	if o.path != "" && o.path != "-" {
		dir := filepath.Dir(o.path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return app.AccessLogOptions{}, usererr.New(usererr.Usage, "%s %s: the directory %s does not exist", flag, o.path, dir).
				WithHint("create it (mkdir -p %s) writable by this user, or give another file (- for standard output)", dir)
		}
	}
	return app.AccessLogOptions{Path: o.path, MaxSize: int64(o.maxMiB) << 20, Keep: o.keep}, nil
}

// open opens the access log for phoenix serve (nil when off), warning on
// log, and the function that closes it; SIGHUP reopens its file.
func (o *accessLogFlags) open(log *slog.Logger, name func(flag string) string) (*edge.AccessLog, func(), error) {
	ao, err := o.options(name)
	if err != nil || ao.Path == "" {
		return nil, func() {}, err
	}
	l, err := edge.OpenAccessLog(ao.Path, edge.AccessLogOptions{MaxSize: ao.MaxSize, Keep: ao.Keep, Logger: log})
	if err != nil {
		return nil, nil, usererr.Wrap(usererr.Usage, err, name(o.prefix+"access-log")+" "+ao.Path+": "+err.Error()).
			WithHint("make the file and its directory writable by this user, or give another file (- for standard output)")
	}
	stop := func() {}
	if ao.Path != "-" {
		stop = l.ReopenOn(syscall.SIGHUP)
	}
	return l, func() { stop(); l.Close() }, nil
}
