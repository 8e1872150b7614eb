package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestRetentionFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags retentionFlags
		want  pipeline.Retention
		err   string
	}{
		{retentionFlags{"90d", 50}, pipeline.Retention{MaxAge: 90 * 24 * time.Hour, Keep: 50}, ""},
		{retentionFlags{" 2w ", 3}, pipeline.Retention{MaxAge: 14 * 24 * time.Hour, Keep: 3}, ""},
		{retentionFlags{"off", 1}, pipeline.Retention{MaxAge: -1, Keep: 1}, ""},
		{retentionFlags{"soon", 50}, pipeline.Retention{}, `--run-retention "soon"`},
		{retentionFlags{"0", 50}, pipeline.Retention{}, `--run-retention "0"`},
		{retentionFlags{"10m", 50}, pipeline.Retention{}, `--run-retention "10m"`},
		{retentionFlags{"90d", 0}, pipeline.Retention{}, "--run-keep 0"},
	} {
		t.Run(tc.flags.maxAge+"/"+strconv.Itoa(tc.flags.keep), func(t *testing.T) {
			got, err := tc.flags.retention(asFlags)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || usererr.KindOf(err) != usererr.Usage || usererr.HintOf(err) == "" {
					t.Fatalf("err = %v, want a usage error naming %s with a hint", err, tc.err)
				}
				return
			}
			if err != nil || got.MaxAge != tc.want.MaxAge || got.Keep != tc.want.Keep {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}
