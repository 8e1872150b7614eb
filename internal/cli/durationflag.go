package cli

import (
	"strconv"
	"strings"
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

// Set parses s as time.ParseDuration does, and whole days ("1d", "90d")
// as the other flags that take a time span do (--expires-in, --since) and
// as the API's durations do: a silence '--for 1d'.
func (d *durationFlag) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 && days <= maxFlagDays {
			*d = durationFlag(time.Duration(days) * 24 * time.Hour)
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

// maxFlagDays is the most days a duration flag takes (ten years), as the
// API's ParseTTL.
const maxFlagDays = 3660

// Type names the value in --help.
func (d *durationFlag) Type() string { return "duration" }

// compactDuration is d without Go's zero minutes and seconds: 1h, 2m,
// 1h30m, 1m30s, 0s (config.FormatDuration).
func compactDuration(d time.Duration) string { return config.FormatDuration(d) }
