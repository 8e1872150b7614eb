// Command phoenix runs a team's production release of a web app: release
// pipelines, signed artifacts, atomic deployments, the edge that serves them,
// monitoring, alerts, secrets and an audit trail, in one binary.
package main

import (
	"os"

	"github.com/phoenixvc/phoenix/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
