package vault

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Stamp returns a text that changes whenever one of names changes as
// OnChange reports it (a new version, a version enabled or disabled, a
// deletion, recovery or purge), made of metadata only: it reads no
// value, needs no open vault and is not audited. A server compares it
// between polls to notice changes another server sharing the database
// made, should their notification not have reached it.
func (v *Vault) Stamp(ctx context.Context, names []string) (string, error) {
	names = slices.Sorted(slices.Values(names))
	var b strings.Builder
	for _, name := range slices.Compact(names) {
		row, found, err := getSecret(ctx, v.opts.DB, name)
		if err != nil {
			return "", err
		}
		if !found {
			fmt.Fprintf(&b, "%s -\n", name)
			continue
		}
		fmt.Fprintf(&b, "%s %d %s %q\n", name, row.current, row.updatedAt, row.deletedAt)
	}
	return b.String(), nil
}
