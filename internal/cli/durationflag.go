package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/config"
)

// durationFlag is a time.Duration flag whose --help default reads as the
// user writes it ("1h", "2m", "168h") rather than Go's "1h0m0s".
type durationFlag time.Duration

// durationVar defines a duration flag, as pflag's DurationVar does.
func durationVar(f *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	f.Var((*durationFlag)(p), name, usage)
}

// String is the value as --help shows its default: "0" for zero, which
// --help leaves out as no default.
func (d *durationFlag) String() string {
	if *d == 0 {
		return "0"
	}
	return compactDuration(time.Duration(*d))
}

// Set parses s as time.ParseDuration does.
func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

// Type names the value in --help.
func (d *durationFlag) Type() string { return "duration" }

// compactDuration is d without Go's zero minutes and seconds: 1h, 2m,
// 1h30m, 1m30s, 0s (config.FormatDuration).
func compactDuration(d time.Duration) string { return config.FormatDuration(d) }
