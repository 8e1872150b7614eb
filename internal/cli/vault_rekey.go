package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// vaultRekeyResult is what 'phoenix vault rekey -o json' prints: the
// vault's status after the change, and the file a generated key went to.
type vaultRekeyResult struct {
	vault.Status
	NewKeyFile string `json:"new_key_file"`
	Generated  bool   `json:"generated"`
}

func newVaultRekeyCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	var newFile, genFile string
	cmd := &cobra.Command{
		Use:   "rekey (--new-key-file FILE | --generate-key-file FILE)",
		Short: "Change the vault's master key",
		Long: `Change the vault's master key: after it, only the new key unseals the vault,
and the old one (leaked, or known to someone who left) opens nothing the
server holds. Secrets and their versions keep their values: the server
re-wraps every version's data key under a key derived from the new master
key, in one transaction (an error or a crash changes nothing).

The current key comes as for 'phoenix vault unseal': PHOENIX_MASTER_KEY,
--master-key-file (PHOENIX_MASTER_KEY_FILE), else a passphrase prompt. The
new one from --new-key-file FILE (mode 0600, at least 12 characters), or
--generate-key-file FILE writes a random one to a new 0600 file (an
existing file is never overwritten). A sealed server is unsealed with the
current key first. Needs vault.manage; audited as vault.rekey.

Afterwards: give the server the new key for its next start (the file or
systemd credential it starts with, docs/operations.md); unseal every other
server sharing the database with the new key (they seal themselves); keep
the old key as long as you keep backups made before the change (a restore
of one opens with the old key only).`,
		Example: `  phoenix vault rekey --master-key-file /etc/phoenix/credentials/master.key --generate-key-file /root/master.key.new
  phoenix vault rekey --server https://phoenix.example.com --new-key-file new-master.key -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVaultRekey(cmd.Context(), g, vf, newFile, genFile)
		},
	}
	cmd.Flags().StringVar(&newFile, "new-key-file", "", "file holding the new master key (mode 0600)")
	cmd.Flags().StringVar(&genFile, "generate-key-file", "", "write a new random master key to this new file (mode 0600) and change to it")
	cmd.MarkFlagsOneRequired("new-key-file", "generate-key-file")
	cmd.MarkFlagsMutuallyExclusive("new-key-file", "generate-key-file")
	return cmd
}

func runVaultRekey(ctx context.Context, g *Globals, vf *vaultFlags, newFile, genFile string) error {
	var newKey vault.Secret
	var err error
	if genFile != "" {
		if _, err := os.Lstat(genFile); !errors.Is(err, fs.ErrNotExist) {
			return usererr.New(usererr.Usage, "%s already exists: a new key never overwrites a file (it may hold a key still needed)", genFile).
				WithHint("name a new file, or give an existing key with --new-key-file")
		}
	} else if newKey, err = loadKeyFile(newFile); err != nil {
		return err
	}
	v, err := g.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	defer v.close()
	st, err := v.VaultStatus(ctx)
	if err == nil && !st.Initialized {
		err = vault.NotInitializedError()
	}
	if err != nil {
		return err
	}
	oldKey, err := v.givenKey(ctx, g, vf)
	if err != nil {
		return err
	}
	if genFile != "" {
		// On disk before the change commits: a key only in memory could be lost with it.
		if newKey, err = vault.GenerateMasterKey(); err == nil {
			err = vault.WriteMasterKeyFile(genFile, newKey)
		}
		if err != nil {
			return usererr.Wrap(usererr.Usage, err, err.Error())
		}
	}
	st, err = rekey(ctx, v, oldKey, newKey)
	if err != nil {
		if genFile != "" {
			os.Remove(genFile)
		}
		return err
	}
	res := vaultRekeyResult{Status: st, NewKeyFile: newFile}
	if genFile != "" {
		res.NewKeyFile, res.Generated = genFile, true
	}
	return g.emit(res, func(w io.Writer) error { return printRekeyed(w, res) })
}

// givenKey is the master key this command was given, asked for at the
// prompt only when the caller may use it (mayTypeKey).
func (v *vaultConn) givenKey(ctx context.Context, g *Globals, vf *vaultFlags) (vault.Secret, error) {
	if err := v.mayTypeKey(ctx, vf); err != nil {
		return vault.Secret{}, err
	}
	return g.masterKey(vf, false)
}

// rekey asks the server to change the key; a sealed vault is unsealed
// with the old key first.
func rekey(ctx context.Context, v *vaultConn, oldKey, newKey vault.Secret) (vault.Status, error) {
	req := api.VaultRekeyRequest{OldMasterKey: oldKey.Reveal(), NewMasterKey: newKey.Reveal()}
	var st vault.Status
	err := v.Do(ctx, "POST", client.Path("vault", "rekey"), req, &st)
	if usererr.KindOf(err) == usererr.Unavailable {
		if s, serr := v.VaultStatus(ctx); serr == nil && s.Initialized && s.Sealed {
			if _, err = v.VaultUnseal(ctx, oldKey); err == nil {
				err = v.Do(ctx, "POST", client.Path("vault", "rekey"), req, &st)
			}
		}
	}
	return st, err
}

func printRekeyed(w io.Writer, r vaultRekeyResult) error {
	fmt.Fprintf(w, "vault %s: master key changed; the old key no longer opens it\n", r.VaultID)
	if r.Generated {
		fmt.Fprintf(w, "new master key written to %s: keep a copy somewhere safe, without it no secret can be read\n", r.NewKeyFile)
	}
	_, err := fmt.Fprintf(w, `next:
  1. give the server the new key for its next start: put %s where its old key was
     (the systemd credential /etc/phoenix/credentials/master.key, --master-key-file,
     PHOENIX_MASTER_KEY_FILE or PHOENIX_MASTER_KEY); started with the old key it stops: wrong master key
  2. other servers sharing the database (replicas) have sealed themselves, or will within a minute:
     unseal each with the new key: phoenix vault unseal --server URL --master-key-file %s
  3. backups made before now hold the vault under the old key (the backup key is unchanged):
     keep the old key, out of reach, as long as you keep them; a restore of one opens with it only
`, r.NewKeyFile, r.NewKeyFile)
	return err
}
