package cli

import (
	"os"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/app"
)

const stepSandboxHelp = "confine pipeline steps so they cannot reach the data dir or the server's key files: " +
	"auto (where the kernel can: Linux 5.19+ with Landlock), on (refuse to start where it cannot), off (docs/pipelines.md#the-step-sandbox)"

// stepHidden are the files given to the server that its pipeline steps
// may not reach besides the data dir (which the app hides itself): key
// files, systemd's credentials, a backup repository on this machine.
func (o *serverOptions) stepHidden() []string {
	paths := append([]string{o.masterKeyFile, o.backupKeyFile, o.oidc.secretFile, os.Getenv("CREDENTIALS_DIRECTORY")}, o.edgeKey...)
	if !strings.Contains(o.backupRepo, "://") {
		paths = append(paths, o.backupRepo)
	}
	return slices.DeleteFunc(paths, func(p string) bool { return p == "" })
}

// takenFromEnv reports whether the variable name is one of the server's
// own credentials (app.ServerOnlyEnv) or one it took out of its
// environment once read (AWS_SECRET_ACCESS_KEY, the OIDC client secret):
// what scrubEnviron removes from /proc/<pid>/environ.
func takenFromEnv(name string) bool {
	_, present := os.LookupEnv(name)
	return app.ServerOnlyEnv(name) || !present
}
