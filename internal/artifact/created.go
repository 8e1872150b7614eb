package artifact

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SourceDateEpoch is the reproducible-builds.org variable that pins a
// build's timestamp: with it set, the same folder always gives the same
// manifest, so the same digest and the same tar bytes.
const SourceDateEpoch = "SOURCE_DATE_EPOCH"

// CreatedFromEnv returns the time SOURCE_DATE_EPOCH names in env
// (KEY=VALUE entries, the last one wins), in UTC, or the zero time when it
// is unset or empty (Build then uses the current time). Any other value
// than a whole number of seconds since 1970 is an error naming the
// variable.
func CreatedFromEnv(env []string) (time.Time, error) {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == SourceDateEpoch {
			v = val
		}
	}
	if v == "" {
		return time.Time{}, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 || secs > 253402300799 { // 9999-12-31T23:59:59Z
		return time.Time{}, fmt.Errorf("%s=%q is not a whole number of seconds since 1970-01-01 UTC (e.g. $(git log -1 --format=%%ct))", SourceDateEpoch, v)
	}
	return time.Unix(secs, 0).UTC(), nil
}
