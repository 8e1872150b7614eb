package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// vaultCommands are `phoenix secret` and `phoenix vault`. They go through
// the REST API like every command (g.connect): to --server, to the server
// holding --data, or to one started in-process. When the server's vault is
// sealed, the master key comes from PHOENIX_MASTER_KEY, --master-key-file
// (PHOENIX_MASTER_KEY_FILE) or a passphrase typed at the terminal, and is
// sent in a request body to unseal it.
func vaultCommands(g *Globals) []*cobra.Command {
	return []*cobra.Command{newSecretCmd(g), newVaultCmd(g)}
}

// vaultFlags are the flags every secret and vault command takes.
type vaultFlags struct {
	masterKeyFile string
}

func addVaultFlags(cmd *cobra.Command, vf *vaultFlags) {
	cmd.PersistentFlags().StringVar(&vf.masterKeyFile, "master-key-file", "",
		"file holding the vault master key, sent to a sealed server (default: $PHOENIX_MASTER_KEY, else a passphrase prompt)")
}

// vaultConn is a connection to a server's vault.
type vaultConn struct {
	*client.Client
	t *target
	// g and vf give the master key to unseal a sealed vault with (vf nil:
	// this connection never unseals).
	g  *Globals
	vf *vaultFlags
}

func (v *vaultConn) close() { v.t.close() }

// openVault connects to the server. With unseal, the command's requests
// (made through unsealing) unseal a sealed vault with the master key this
// command was given when the server answers that the vault is sealed.
func (g *Globals) openVault(ctx context.Context, vf *vaultFlags, unseal bool) (*vaultConn, error) {
	t, err := g.dial(ctx, false, nil)
	if err != nil {
		return nil, err
	}
	v := &vaultConn{Client: t.client, t: t}
	if unseal {
		v.g, v.vf = g, vf
	}
	return v, nil
}

// unsealing runs do, the command's request. The server checks the
// caller's permission for it first, so a caller without it gets the 403
// naming it, never a question about the master key. Only when the server
// answers that the vault is sealed is the vault unsealed with the master
// key this command was given (typed at the prompt only by a caller who
// may unseal), and do run again. For a vault never initialized, or one
// the caller may not unseal, the server's answer to do stands.
func unsealing[T any](ctx context.Context, v *vaultConn, do func() (T, error)) (T, error) {
	out, err := do()
	if v.vf == nil || usererr.KindOf(err) != usererr.Unavailable {
		return out, err
	}
	switch uerr := v.unseal(ctx); {
	case errors.Is(uerr, errMayNotUnseal):
		var ue *usererr.Error
		if errors.As(err, &ue) {
			// The server's hint says to give the master key, which this
			// caller may not use (or has given in vain).
			c := *ue
			c.Hint = "unsealing needs vault.manage: ask someone who has it to run 'phoenix vault unseal'"
			err = &c
		}
		return out, err
	case errors.Is(uerr, errNotOpened):
		return out, err
	case uerr != nil:
		return out, uerr
	}
	return do()
}

// Why unseal did not open the vault, when the command's own error says
// it best: errMayNotUnseal, the caller lacks vault.manage; errNotOpened,
// the vault was not sealed after all, or there is no key to give.
var (
	errMayNotUnseal = errors.New("may not unseal")
	errNotOpened    = errors.New("not opened")
)

// unsealingErr is unsealing for a request that answers only an error.
func unsealingErr(ctx context.Context, v *vaultConn, do func() error) error {
	_, err := unsealing(ctx, v, func() (struct{}, error) { return struct{}{}, do() })
	return err
}

// unseal unseals the vault when it is sealed, with the master key this
// command was given: nil when it did, else errMayNotUnseal,
// errNotOpened or what went wrong.
func (v *vaultConn) unseal(ctx context.Context) error {
	st, err := v.VaultStatus(ctx)
	if err != nil || !st.Initialized || !st.Sealed {
		return errNotOpened
	}
	if err := v.mayTypeKey(ctx, v.vf); usererr.KindOf(err) == usererr.Forbidden {
		return errMayNotUnseal
	} else if err != nil {
		return err
	}
	key, err := v.g.masterKey(v.vf, false)
	if errors.Is(err, errNoTerminal) {
		return errNotOpened
	}
	if err != nil {
		return err
	}
	if _, err = v.VaultUnseal(ctx, key); usererr.KindOf(err) == usererr.Forbidden {
		return errMayNotUnseal
	}
	return err
}

// mayTypeKey is nil, unless the master key would be asked for at the
// prompt (none is given by PHOENIX_MASTER_KEY or --master-key-file) and
// the caller may not use it: then it is the server's 403 naming
// vault.manage, so that nobody types the key only to be refused. The
// server is asked without a key: the check of an empty one answers 403
// without vault.manage, else 400 (and checks nothing).
func (v *vaultConn) mayTypeKey(ctx context.Context, vf *vaultFlags) error {
	if _, env := vault.MasterKeyFromEnv(""); env || vf.masterKeyFile != "" {
		return nil
	}
	err := v.Do(ctx, "POST", client.Path("vault", "check"), api.VaultKeyRequest{}, nil)
	if usererr.KindOf(err) == usererr.Invalid {
		return nil
	}
	return err
}

// errNoTerminal: no master key was given and there is no terminal to ask
// for one.
var errNoTerminal = errors.New("no terminal")

// masterKey finds the master key: PHOENIX_MASTER_KEY, then
// --master-key-file, then a passphrase typed on the terminal (twice when
// confirm).
func (g *Globals) masterKey(vf *vaultFlags, confirm bool) (vault.Secret, error) {
	if k, ok := vault.MasterKeyFromEnv(""); ok {
		return k, nil
	}
	if vf.masterKeyFile != "" {
		return loadKeyFile(vf.masterKeyFile)
	}
	k, err := promptSecret("Vault master key or passphrase: ")
	if err != nil {
		return vault.Secret{}, err
	}
	if confirm {
		again, err := promptSecret("Again, to confirm: ")
		if err != nil {
			return vault.Secret{}, err
		}
		if !again.Equal(k) {
			return vault.Secret{}, usererr.New(usererr.Usage, "the two entries differ")
		}
	}
	return k, nil
}

// promptSecret reads a line from the terminal without echo. It uses
// /dev/tty, so a value piped on stdin stays available.
func promptSecret(prompt string) (vault.Secret, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return vault.Secret{}, usererr.Wrap(usererr.Usage, errNoTerminal, "no vault master key given and no terminal to ask for one").
			WithHint("set %s or pass --master-key-file FILE", masterKeyFileEnv)
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return vault.Secret{}, fmt.Errorf("read from terminal: %w", err)
	}
	s := vault.NewSecret(b)
	clear(b)
	if s.IsZero() {
		return vault.Secret{}, usererr.New(usererr.Usage, "empty input")
	}
	return s, nil
}

func newVaultCmd(g *Globals) *cobra.Command {
	vf := &vaultFlags{}
	cmd := &cobra.Command{
		Use: "vault",
		Example: `  phoenix vault init --generate-key-file ~/.config/phoenix/master.key
  phoenix vault status
  phoenix vault unseal --master-key-file ~/.config/phoenix/master.key
  phoenix secret set DATABASE_URL`,
		Short: "Initialize, unseal, seal, rekey and inspect the secrets vault",
		Long: `The vault encrypts every secret version with its own key, wrapped by a key
derived from the master key. The master key is never stored: the server gets
it at start (PHOENIX_MASTER_KEY or 'phoenix server --master-key-file'), or
later from 'phoenix vault unseal', which reads it from PHOENIX_MASTER_KEY,
--master-key-file or the terminal and sends it in a request body.`,
	}
	addVaultFlags(cmd, vf)
	cmd.AddCommand(newVaultInitCmd(g, vf), newVaultUnsealCmd(g, vf), newVaultSealCmd(g), newVaultStatusCmd(g, vf),
		newVaultRekeyCmd(g, vf))
	return cmd
}

func newVaultInitCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	var genFile string
	cmd := &cobra.Command{
		Use:   "init [--generate-key-file FILE]",
		Short: "Create the vault with a master key",
		Long: `Create the server's vault with a master key. With --generate-key-file a
random key is written to a new file (mode 0600); otherwise the key comes
from PHOENIX_MASTER_KEY, --master-key-file, or a passphrase typed twice.
Keep the key safe: without it no secret can be read.`,
		Example: "  phoenix vault init --generate-key-file ~/.config/phoenix/master.key\n  PHOENIX_MASTER_KEY=... phoenix vault init",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVaultInit(cmd.Context(), g, vf, genFile)
		},
	}
	cmd.Flags().StringVar(&genFile, "generate-key-file", "", "write a new random master key to this file and use it")
	return cmd
}

func runVaultInit(ctx context.Context, g *Globals, vf *vaultFlags, genFile string) error {
	v, err := g.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	defer v.close()
	if st, err := v.VaultStatus(ctx); err != nil {
		return err
	} else if st.Initialized {
		return usererr.New(usererr.Conflict, "the vault is already initialized").
			WithHint("use 'phoenix vault unseal' with its master key")
	}
	var key vault.Secret
	if genFile != "" {
		if key, err = vault.GenerateMasterKey(); err == nil {
			err = vault.WriteMasterKeyFile(genFile, key)
		}
		if err != nil {
			return usererr.Wrap(usererr.Usage, err, err.Error())
		}
	} else if err = v.mayTypeKey(ctx, vf); err != nil {
		return err
	} else if key, err = g.masterKey(vf, true); err != nil {
		return err
	}
	st, err := v.VaultInit(ctx, key)
	if err != nil {
		if genFile != "" {
			os.Remove(genFile)
		}
		return err
	}
	return g.emit(st, func(w io.Writer) error {
		fmt.Fprintf(w, "vault %s initialized\n", st.VaultID)
		if genFile != "" {
			fmt.Fprintf(w, "master key written to %s: keep a copy somewhere safe, without it no secret can be read\n", genFile)
		}
		return nil
	})
}

func newVaultUnsealCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "unseal",
		Short: "Hand the server the master key so it can serve secrets",
		Long: `Send the master key to the server (in a request body, never a URL) to
unseal its vault. A wrong key is refused and changes nothing.`,
		Example: "  phoenix vault unseal --master-key-file ~/.config/phoenix/master.key\n  phoenix vault unseal --server https://phoenix.example.com   # asks for the passphrase",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			v, err := g.openVault(ctx, vf, false)
			if err != nil {
				return err
			}
			defer v.close()
			key, err := v.givenKey(ctx, g, vf)
			if err != nil {
				return err
			}
			st, err := v.VaultUnseal(ctx, key)
			if err != nil {
				return err
			}
			if v.t.inProcess {
				fmt.Fprintf(g.Stderr, "note: no server runs on %s, so this opened only this command's own in-process server; "+
					"commands without --server unseal theirs with %s\n", g.Data, masterKeyFileEnv)
			}
			return g.emit(st, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "vault %s unsealed\n", st.VaultID)
				return err
			})
		},
	}
}

func newVaultSealCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "seal",
		Short:   "Make the server forget the vault key until the next unseal",
		Example: "  phoenix vault seal --server https://phoenix.example.com",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := g.openVault(cmd.Context(), &vaultFlags{}, false)
			if err != nil {
				return err
			}
			defer v.close()
			st, err := v.VaultSeal(cmd.Context())
			if err != nil {
				return err
			}
			return g.emit(st, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "vault %s sealed\n", st.VaultID)
				return err
			})
		},
	}
}

// vaultStatus adds to vault.Status whether the key this command was given
// opens the vault.
type vaultStatus struct {
	vault.Status
	MasterKey string `json:"master_key"` // "valid", "wrong", "not given" or "not checked" (no vault.manage)
}

func newVaultStatusCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the vault is initialized and sealed, and whether the master key given opens it",
		Long: `Show the server's vault state. When a master key is given (PHOENIX_MASTER_KEY
or --master-key-file), the server checks whether it opens the vault (valid or
wrong); the check changes nothing: a sealed vault stays sealed (open it with
'phoenix vault unseal').`,
		Example: "  phoenix vault status\n  phoenix vault status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			v, err := g.openVault(ctx, vf, false)
			if err != nil {
				return err
			}
			defer v.close()
			out := vaultStatus{MasterKey: "not given"}
			if out.Status, err = v.VaultStatus(ctx); err != nil {
				return err
			}
			key, ok := vault.MasterKeyFromEnv("")
			if !ok && vf.masterKeyFile != "" {
				if key, err = loadKeyFile(vf.masterKeyFile); err != nil {
					return err
				}
				ok = true
			}
			if ok && out.Initialized {
				out.MasterKey = "valid"
				var st vault.Status
				err := v.Do(ctx, "POST", client.Path("vault", "check"), api.VaultKeyRequest{MasterKey: key.Reveal()}, &st)
				switch {
				case errors.Is(err, vault.ErrWrongKey) || usererr.KindOf(err) == usererr.Invalid: // 400: the key; 401 is the caller's token
					out.MasterKey = "wrong"
				case usererr.KindOf(err) == usererr.Forbidden: // checking a key is vault.manage's; the state is read's
					out.MasterKey = "not checked"
					fmt.Fprintln(g.Stderr, "note: the master key was not checked: that needs vault.manage")
				case err != nil:
					return err
				default:
					out.Status = st
				}
			}
			return g.emit(out, func(w io.Writer) error { return printVaultStatus(w, out) })
		},
	}
}

func printVaultStatus(w io.Writer, s vaultStatus) error {
	if !s.Initialized {
		_, err := fmt.Fprintln(w, "vault: not initialized (run 'phoenix vault init')")
		return err
	}
	state := "unsealed"
	if s.Sealed {
		state = "sealed"
	}
	tb := newTable(w, "vault", "state", "kdf", "secrets", "deleted", "master key", "created")
	tb.row(s.VaultID, state, s.KDF, s.Secrets, s.Deleted, s.MasterKey, s.CreatedAt.Local().Format("2006-01-02 15:04"))
	return tb.flush()
}

// secretAction is a one-argument command on a secret.
type secretAction struct {
	use, short, long, example string
	version, confirm          bool // takes --version; needs --yes
	run                       func(ctx context.Context, v *vaultConn, name string, version int) (string, error)
}

var secretActions = []secretAction{
	{use: "delete NAME", short: "Delete a secret (recoverable for 90 days)",
		long:    "Delete NAME: it stops being served at once and can be recovered until the\nrecovery window ends, after which it is purged.",
		example: "  phoenix secret delete OLD_API_KEY",
		run: func(ctx context.Context, v *vaultConn, name string, _ int) (string, error) {
			res, err := v.DeleteSecret(ctx, name, false)
			return fmt.Sprintf("%s: deleted; recoverable until %s with 'phoenix secret recover %s'", name, res.PurgeAfter.Local().Format(time.DateOnly), name), err
		}},
	{use: "recover NAME", short: "Recover a deleted secret", example: "  phoenix secret recover OLD_API_KEY",
		run: func(ctx context.Context, v *vaultConn, name string, _ int) (string, error) {
			return name + ": recovered", v.RecoverSecret(ctx, name)
		}},
	{use: "purge NAME --yes", short: "Remove a deleted secret and all its versions for good", confirm: true,
		example: "  phoenix secret purge OLD_API_KEY --yes",
		run: func(ctx context.Context, v *vaultConn, name string, _ int) (string, error) {
			_, err := v.DeleteSecret(ctx, name, true)
			return name + ": purged", err
		}},
	{use: "disable NAME --version N", short: "Stop serving one version of a secret", version: true,
		example: "  phoenix secret disable API_KEYS --version 3",
		run: func(ctx context.Context, v *vaultConn, name string, ver int) (string, error) {
			return fmt.Sprintf("%s: version %d disabled", name, ver), v.SetSecretEnabled(ctx, name, ver, false)
		}},
	{use: "enable NAME --version N", short: "Serve a disabled version again", version: true,
		example: "  phoenix secret enable API_KEYS --version 3",
		run: func(ctx context.Context, v *vaultConn, name string, ver int) (string, error) {
			return fmt.Sprintf("%s: version %d enabled", name, ver), v.SetSecretEnabled(ctx, name, ver, true)
		}},
}

func newSecretActionCmd(g *Globals, vf *vaultFlags, a secretAction) *cobra.Command {
	var version int
	var yes bool
	cmd := &cobra.Command{
		Use: a.use, Short: a.short, Long: a.long, Example: a.example, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.confirm && !yes {
				return usererr.New(usererr.Usage, "this removes %s and every version of it for good", args[0]).
					WithHint("add --yes if you mean it")
			}
			v, err := g.openVault(cmd.Context(), vf, true)
			if err != nil {
				return err
			}
			defer v.close()
			msg, err := unsealing(cmd.Context(), v, func() (string, error) { return a.run(cmd.Context(), v, args[0], version) })
			if err != nil {
				return err
			}
			return g.emit(map[string]string{"name": args[0], "result": msg}, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, msg)
				return err
			})
		},
	}
	if a.version {
		cmd.Flags().IntVar(&version, "version", 0, "the version number (see phoenix secret history NAME)")
		cmd.MarkFlagRequired("version")
	}
	if a.confirm {
		cmd.Flags().BoolVar(&yes, "yes", false, "confirm: the secret and every version of it are gone for good")
	}
	return cmd
}

type importFlags struct {
	overwrite, production bool
	tags                  map[string]string
}

func newSecretImportCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Bootstrap secrets from a .env file (- for stdin)",
		Long: `Import every KEY=value of a .env file in one transaction: all or nothing.
Existing secrets are left alone unless --overwrite (and never rewritten
when the value is the same). Values are taken literally: no ${VAR}
expansion. Delete the file afterwards.`,
		Example: "  phoenix secret import .env.production --production\n  phoenix secret import - < .env",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretImport(cmd, g, vf, f, args[0])
		},
	}
	cmd.Flags().BoolVar(&f.overwrite, "overwrite", false, "give existing secrets a new version")
	cmd.Flags().BoolVar(&f.production, "production", false, "mark every imported secret as production")
	cmd.Flags().StringToStringVar(&f.tags, "tag", nil, "tag KEY=VALUE for new secrets (repeatable)")
	return cmd
}

func runSecretImport(cmd *cobra.Command, g *Globals, vf *vaultFlags, f *importFlags, file string) error {
	in := g.Stdin
	if file != "-" {
		fh, err := openArg("file", file)
		if err != nil {
			return err
		}
		defer fh.Close()
		in = fh
	}
	entries, err := vault.ParseDotenv(in)
	if err != nil {
		return usererr.Wrap(usererr.Invalid, err, fmt.Sprintf("%s: %v", file, err))
	}
	if len(entries) == 0 {
		return usererr.New(usererr.Invalid, "%s holds no KEY=value lines", file)
	}
	v, err := g.openVault(cmd.Context(), vf, true)
	if err != nil {
		return err
	}
	defer v.close()
	req := api.ImportRequest{Overwrite: f.overwrite, Tags: f.tags}
	if cmd.Flags().Changed("production") {
		req.Production = &f.production
	}
	for _, e := range entries {
		req.Entries = append(req.Entries, api.ImportEntry{Name: e.Name, Line: e.Line, Value: e.Value.Bytes()})
	}
	defer func() {
		for _, e := range req.Entries {
			clear(e.Value)
		}
	}()
	res, err := unsealing(cmd.Context(), v, func() ([]vault.ImportResult, error) { return v.ImportSecrets(cmd.Context(), req) })
	if err != nil {
		return err
	}
	return g.emit(res, func(w io.Writer) error {
		tb := newTable(w, "name", "line", "result")
		for _, r := range res {
			result := fmt.Sprintf("version %d", r.Version)
			if r.Skipped != "" {
				result = "skipped: " + r.Skipped
			}
			tb.row(r.Name, r.Line, result)
		}
		return tb.flush()
	})
}
