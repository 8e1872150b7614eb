package cli

import (
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

const diskAlertFreeHelp = "alert (disk-low) when the data dir or the blob dir has less room than this: a percentage of the disk (5%) or a size (1GiB); 0: no alert"

// parseDiskAlertFree reads --disk-alert-free; a refused value is named by
// flag (Globals.flagOrEnv).
func parseDiskAlertFree(flag, s string) (app.DiskThreshold, error) {
	t, err := app.ParseDiskThreshold(s)
	if err != nil {
		return t, usererr.Wrap(usererr.Usage, err, flag+" "+err.Error()).
			WithHint("give a percentage, e.g. %s5%%, a size, e.g. %s1GiB, or 0 for no disk alert", setting(flag), setting(flag))
	}
	return t, nil
}
