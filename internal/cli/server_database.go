package cli

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
)

// DatabaseURLEnv is --database-url's environment mirror. The server
// removes it from its environment once read, so no process it starts (a
// pipeline step) inherits the database's credentials.
const DatabaseURLEnv = "PHOENIX_DATABASE_URL"

// databaseFlags say where the server keeps its state: <data>/state.db
// (SQLite, the default) or a PostgreSQL database.
type databaseFlags struct {
	url       string
	replica   bool
	advertise string
}

func addDatabaseFlags(f *pflag.FlagSet, df *databaseFlags) {
	f.StringVar(&df.url, "database-url", "", "keep the state in this PostgreSQL database, e.g. postgres://phoenix@db:5432/phoenix "+
		"(prefer $"+DatabaseURLEnv+", or the password in PGPASSWORD or ~/.pgpass: flags land in shell history; default: SQLite in the data dir)")
	f.BoolVar(&df.replica, "replica", false, "let several servers share --database-url and --blob-store (needs the vault's master key; "+
		"docs/postgres.md, Several servers); default: a second server on the database is refused")
	f.StringVar(&df.advertise, "advertise-url", "", "with --replica: the URL the other replicas reach this one's API at, "+
		"e.g. http://10.0.0.5:7070 (they read the logs of the runs it ran there; default: the --listen address)")
}

// take checks the URL's form and returns it, removing its environment
// mirror from the environment. (PGPASSWORD stays for the store to read;
// pipeline steps never get either: app's childEnv drops both.)
// A refused URL is named by name (Globals.flagOrEnv).
func (df databaseFlags) take(name func(flag string) string) (string, error) {
	os.Unsetenv(DatabaseURLEnv)
	if df.url == "" {
		return "", nil
	}
	if err := app.CheckDatabaseURL(name("database-url"), df.url); err != nil {
		return "", err
	}
	return df.url, nil
}
