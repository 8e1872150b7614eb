package action

import (
	"context"
	"fmt"
	"time"
)

// SecretAger is a SecretSource that knows when each secret's newest
// version was set (the vault): fetch-secrets checks vault.rotation with it.
type SecretAger interface {
	SecretSetAt(ctx context.Context, name string) (time.Time, error)
}

// checkRotation warns in the step log of each vault.rotation secret whose
// newest version is older than its rule's every. The rules are phoenix.yaml's
// and the server rotates only secrets with a rotation policy of their own,
// so without this a rule went unnoticed whatever the secret's age.
func (d *Deps) checkRotation(ctx context.Context, sc *Context) {
	if sc.Config == nil || len(sc.Config.Vault.Rotation) == 0 {
		return
	}
	ager, ok := d.Secrets.(SecretAger)
	if !ok {
		sc.Logf("warning: vault.rotation: the secret source cannot tell when a secret was set; not checked")
		return
	}
	for i, r := range sc.Config.Vault.Rotation {
		at, err := ager.SecretSetAt(ctx, r.Secret)
		age := d.Now().Sub(at)
		switch {
		case err != nil:
			sc.Logf("warning: vault.rotation[%d]: %s: not checked: %v", i, r.Secret, err)
		case age > r.Every.D():
			sc.Logf("warning: vault.rotation[%d]: %s was set %s ago (%s), longer than every: %s; rotate it "+
				"(phoenix secret rotate %s), or let the server rotate it (phoenix secret rotate %s --every %d --policy-only)",
				i, r.Secret, days(age), at.UTC().Format(time.DateOnly), days(r.Every.D()), r.Secret, r.Secret,
				max(1, int(r.Every.D().Hours()/24)))
		default:
			sc.Logf("vault.rotation: %s was set %s ago, within every: %s", r.Secret, days(age), days(r.Every.D()))
		}
	}
}

// days writes d in whole days ("90d"), or below a day in hours and minutes.
func days(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Truncate(time.Minute).String()
}
