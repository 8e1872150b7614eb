package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// corruptBlobs is the failure of a backup that found blobs whose bytes
// no longer match their digest (docs/backup.md#a-corrupt-blob): it logs
// each with the deployments that use it, and returns the error the
// status, the audit record and backup.failed carry, naming them too.
func (b *Backups) corruptBlobs(ctx context.Context, snap *backup.Snapshot) error {
	ds := make([]backend.Digest, len(snap.Corrupt))
	for i, c := range snap.Corrupt {
		ds[i] = backend.Digest(c.Name)
	}
	users, err := b.a.Deploy.BlobUsers(ctx, ds)
	if err != nil {
		b.a.log.Error("backup: cannot tell which deployments use the corrupt blobs", "err", err)
	}
	parts := make([]string, len(snap.Corrupt))
	for i, c := range snap.Corrupt {
		used := usersText(users[backend.Digest(c.Name)])
		b.a.log.Error("backup: a blob no longer matches its digest and was left out of the snapshot",
			"blob", c.Path, "holds", c.Actual, "used_by", used, "snapshot", short(snap.ID))
		parts[i] = fmt.Sprintf("%s (holds %s; used by %s)", c.Path, c.Actual, used)
	}
	return usererr.New(usererr.Failed, "snapshot %s is taken, but %d blob(s) of the data dir no longer match their digest and were left out of it: %s",
		short(snap.ID), len(snap.Corrupt), strings.Join(parts, "; ")).
		WithHint("the edge serves those bytes as they are: put a good copy in the file's place (from the release's build, or an earlier snapshot restored with 'phoenix backup restore ID --to DIR'); retention waits until a backup finds none (docs/backup.md#a-corrupt-blob)")
}
