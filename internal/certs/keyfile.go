package certs

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
)

// warnReadableKey warns when the private key file lets every user of the
// machine read it (a copy made with a umask of 022, say). A key readable
// by its group is left alone: Debian's ssl-cert group gives servers
// /etc/ssl/private that way.
func warnReadableKey(keyFile string, log *slog.Logger) {
	fi, err := os.Stat(keyFile)
	if err != nil || runtime.GOOS == "windows" || fi.Mode().Perm()&0o004 == 0 {
		return
	}
	log.Warn("edge: the TLS private key file is readable by every user of this machine",
		"file", keyFile, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()),
		"hint", "chmod 600 "+keyFile+" (or 640, with a group the server runs in)")
}
