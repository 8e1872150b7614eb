package cli

import (
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The vault and the backup repository derive their keys with argon2id at
// 64 MiB and three passes: most of a second per unseal, several seconds
// under the race detector, and the in-process commands of these tests
// unseal a vault at nearly every step. The tests check the commands, not
// the cost (the vault's and backup's own tests run cheap too), so the
// whole test binary, and every child of it that a test starts, makes its
// vaults and repositories at the cheapest valid cost. It is set before any test
// runs and never changed, so tests running in parallel share it safely.
func init() {
	vault.DefaultKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	backup.DefaultKDF = backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
}
