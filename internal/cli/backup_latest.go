package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// legacyServer names, in --from, the snapshots taken before servers were
// recorded (their SERVER is "-" in 'phoenix backup list').
const legacyServer = "none"

// latestFlags say whose latest snapshot "latest" is, for verify and
// restore: several servers may back up into one repository (a restore
// drill, a standby, replicas), docs/backup.md#several-servers-on-one-repository.
type latestFlags struct {
	from string
	any  bool
}

func addLatestFlags(cmd *cobra.Command, lf *latestFlags) {
	cmd.Flags().StringVar(&lf.from, "from", "", `"latest" is this server's newest snapshot (its id, the SERVER of 'phoenix backup list'; "`+legacyServer+`" for snapshots that record none)`)
	cmd.Flags().BoolVar(&lf.any, "any", false, `"latest" is the newest snapshot of any server`)
}

// resolveLatest turns "latest" into the id of the snapshot it means and
// says on stderr which one that is: with --any the newest of all, with
// --from that server's newest, else the newest of the server whose data
// dir --data is, else, when every snapshot is one server's, its newest.
// Snapshots of several servers and none of them this data dir's are
// refused, naming each, rather than restoring whichever backed up last.
func resolveLatest(ctx context.Context, g *Globals, r *backup.Repo, id string, lf latestFlags) (string, error) {
	if id != "latest" {
		if lf.from != "" || lf.any {
			return "", usererr.New(usererr.Usage, "--from and --any choose what \"latest\" means; snapshot %s is named", id)
		}
		return id, nil
	}
	if lf.from != "" && lf.any {
		return "", usererr.New(usererr.Usage, "--from and --any cannot be used together")
	}
	list, err := r.List(ctx)
	if _, damaged := errors.AsType[*backup.DamagedError](err); err != nil && !damaged {
		return "", err
	}
	server, why, err := latestServer(g, list, lf)
	if err != nil {
		return "", err
	}
	s, ok := newestOf(list, server, lf.any)
	if !ok {
		return "", usererr.New(usererr.NotFound, "no snapshot of %s in the repository", why).
			WithHint("'phoenix backup list --repo DIR' shows each snapshot's server")
	}
	fmt.Fprintf(g.Stderr, "latest: snapshot %s of %s, host %s, taken %s\n", shortID(s.ID), why, s.Host, s.Time.Local().Format(time.DateTime))
	return s.ID, nil
}

// latestServer is the server whose newest snapshot "latest" means, and
// how to name it in messages.
func latestServer(g *Globals, list []backup.Summary, lf latestFlags) (string, string, error) {
	switch {
	case lf.any:
		return "", "any server", nil
	case lf.from == legacyServer:
		return "", "no recorded server (taken before servers were recorded)", nil
	case lf.from != "":
		return lf.from, "server " + lf.from, nil
	}
	own, err := backup.ReadServerID(g.Data)
	if err != nil {
		return "", "", usererr.Wrap(usererr.Invalid, err, err.Error())
	}
	if _, ok := newestOf(list, own, false); own != "" && ok {
		return own, fmt.Sprintf("this data dir's server %s (%s)", own, g.Data), nil
	}
	servers := newestPerServer(list)
	if len(servers) > 1 {
		return "", "", ambiguousLatest(servers)
	}
	if len(servers) == 1 && servers[0].Server == "" {
		return "", "no recorded server (taken before servers were recorded)", nil
	}
	if len(servers) == 1 {
		return servers[0].Server, "server " + servers[0].Server + ", the only one in the repository", nil
	}
	return "", "any server", nil // an empty repository: newestOf says so
}

// newestOf is the newest snapshot of list (newest first) that server
// took ("" for those that record none), or of any server with any.
func newestOf(list []backup.Summary, server string, any bool) (backup.Summary, bool) {
	if any && len(list) > 0 {
		return list[0], !list[0].Damaged // the damaged ones come last, if at all
	}
	return backup.NewestOf(list, server)
}

// newestPerServer is the newest snapshot of each server in list, newest first.
func newestPerServer(list []backup.Summary) []backup.Summary {
	seen := map[string]bool{}
	var out []backup.Summary
	for _, s := range list {
		if !s.Damaged && !seen[s.Server] {
			seen[s.Server] = true
			out = append(out, s)
		}
	}
	return out
}

// ambiguousLatest refuses "latest" over several servers' snapshots.
func ambiguousLatest(servers []backup.Summary) error {
	lines := make([]string, len(servers))
	for i, s := range servers {
		lines[i] = fmt.Sprintf("%s (host %s): newest %s, %s", serverName(s.Server), s.Host, shortID(s.ID), s.Time.Local().Format(time.DateTime))
	}
	return usererr.New(usererr.Usage, "the repository holds the snapshots of %d servers, and none is this data dir's: %s",
		len(servers), strings.Join(lines, "; ")).
		WithHint("say which: --from SERVER (%q for snapshots that record none), --any for the newest of all, or a snapshot id", legacyServer)
}

// serverName is a snapshot's server as listings show it.
func serverName(id string) string {
	if id == "" {
		return "-"
	}
	return id
}
