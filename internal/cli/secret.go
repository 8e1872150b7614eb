package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

func newSecretCmd(g *Globals) *cobra.Command {
	vf := &vaultFlags{}
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Set, read, rotate and delete vault secrets",
		Long: `Secrets are encrypted in the server's vault and versioned: every set makes a
new version. Like every command, these go through the REST API (--server,
or the server holding --data, or one started in-process). Values never come from command arguments (they would land in
shell history): pipe them on stdin, type them at the prompt, or use
--from-file.

The server's own keys (PHOENIX_SIGNING_KEY, PHOENIX_AUDIT_KEY,
PHOENIX_EDGE_SESSION_KEY, PHOENIX_ACME_KEY; SYSTEM in the listing) are
listed but never read, set or deleted here: their values never leave the
server. 'phoenix secret rotate' gives the last two a new key.`,
		Example: `  printf %s "$TOKEN" | phoenix secret set PROD_GITHUB_TOKEN --production
  phoenix secret set SSL_CERTIFICATE --certificate --from-file bundle.pem
  phoenix secret get PROD_GITHUB_TOKEN
  phoenix secret import .env.production --production`,
	}
	addVaultFlags(cmd, vf)
	cmd.AddCommand(newSecretSetCmd(g, vf), newSecretGetCmd(g, vf), newSecretListCmd(g, vf), newSecretHistoryCmd(g, vf),
		newSecretRotateCmd(g, vf), newSecretImportCmd(g, vf))
	for _, a := range secretActions {
		cmd.AddCommand(newSecretActionCmd(g, vf, a))
	}
	return cmd
}

type setFlags struct {
	fromFile, value, contentType string
	forceInsecure, production    bool
	certificate, signingKey      bool
	tags                         map[string]string
	expires, notBefore           string
}

func newSecretSetCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	f := &setFlags{}
	cmd := &cobra.Command{
		Use:   "set NAME [--from-file FILE]",
		Short: "Store a new version of a secret (value from stdin or a file)",
		Long: `Store a new version of NAME. The value is read from --from-file, else from
stdin (one trailing newline is dropped), else typed at a hidden prompt.
--value puts the secret in shell history and the process list, so it also
needs --force-insecure.`,
		Example: `  printf %s "$TOKEN" | phoenix secret set API_KEYS
  phoenix secret set PROD_TEAMS_WEBHOOK_URL --production --expires-in 365d
  phoenix secret set SSL_CERTIFICATE --certificate --from-file fullchain-and-key.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSecretSet(cmd, g, vf, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.fromFile, "from-file", "f", "", "read the value from this file (kept byte for byte)")
	fl.StringVar(&f.value, "value", "", "the value itself (unsafe: needs --force-insecure)")
	fl.BoolVar(&f.forceInsecure, "force-insecure", false, "allow --value")
	fl.StringVar(&f.contentType, "content-type", "", "content type, e.g. text/plain or application/json")
	fl.BoolVar(&f.production, "production", false, "mark as a production secret: only production runs may read it")
	fl.BoolVar(&f.certificate, "certificate", false, "the value is a PEM bundle: private key, certificate, chain")
	fl.BoolVar(&f.signingKey, "signing-key", false, "the value is a signing key (a minisign secret key file)")
	fl.StringToStringVar(&f.tags, "tag", nil, "tag KEY=VALUE (repeatable; replaces the secret's tags)")
	fl.StringVar(&f.expires, "expires", "", "expiry: a date (2027-01-31), RFC 3339 time, or a duration from now (90d, 36h)")
	fl.StringVar(&f.expires, "expires-in", "", "alias of --expires")
	fl.StringVar(&f.notBefore, "not-before", "", "not valid before: a date, RFC 3339 time, or a duration from now")
	return cmd
}

func runSecretSet(cmd *cobra.Command, g *Globals, vf *vaultFlags, f *setFlags, name string) error {
	ctx := cmd.Context()
	req := api.SecretRequest{ContentType: f.contentType, Tags: f.tags}
	var err error
	if req.ExpiresAt, err = parseWhen("--expires", f.expires); err != nil {
		return err
	}
	if req.NotBefore, err = parseWhen("--not-before", f.notBefore); err != nil {
		return err
	}
	if cmd.Flags().Changed("production") {
		req.Production = &f.production
	}
	switch {
	case f.certificate && f.signingKey:
		return usererr.New(usererr.Usage, "--certificate and --signing-key exclude each other")
	case f.certificate:
		req.Kind = vault.KindCertificate
	case f.signingKey:
		req.Kind = vault.KindSigningKey
	}
	val, err := g.readValue(f, name)
	if err != nil {
		return err
	}
	v, err := g.openVault(ctx, vf, true)
	if err != nil {
		return err
	}
	defer v.close()
	req.Value = val.Bytes()
	defer clear(req.Value)
	vi, err := unsealing(ctx, v, func() (vault.VersionInfo, error) { return v.SetSecret(ctx, name, req) })
	if err != nil {
		return err
	}
	return g.emit(vi, func(w io.Writer) error {
		fmt.Fprintf(w, "%s: version %d set\n", name, vi.Version)
		for _, warn := range vi.Warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
		return nil
	})
}

// readValue gets a value from --from-file, --value (forced), a piped
// stdin or a hidden prompt.
func (g *Globals) readValue(f *setFlags, name string) (vault.Secret, error) {
	switch {
	case f.value != "" && !f.forceInsecure:
		return vault.Secret{}, usererr.New(usererr.Usage, "--value puts the secret in shell history and the process list").
			WithHint("pipe it on stdin or use --from-file; add --force-insecure if you really mean it")
	case f.value != "" && f.fromFile != "":
		return vault.Secret{}, usererr.New(usererr.Usage, "give the value by --value or --from-file, not both")
	case f.value != "":
		return vault.SecretString(f.value), nil
	case f.fromFile != "":
		b, err := readLimited(f.fromFile)
		if err != nil {
			return vault.Secret{}, err
		}
		defer clear(b)
		return nonEmpty(vault.NewSecret(b), f.fromFile)
	}
	if file, ok := g.Stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		fmt.Fprintf(g.Stderr, "Value for %s (input hidden): ", name)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return vault.Secret{}, fmt.Errorf("read from terminal: %w", err)
		}
		defer clear(b)
		return nonEmpty(vault.NewSecret(b), "the prompt")
	}
	b, err := io.ReadAll(io.LimitReader(g.Stdin, vault.MaxValueSize+2))
	if err != nil {
		return vault.Secret{}, fmt.Errorf("read stdin: %w", err)
	}
	defer clear(b)
	t := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	return nonEmpty(vault.NewSecret(t), "stdin")
}

func nonEmpty(s vault.Secret, from string) (vault.Secret, error) {
	if s.IsZero() {
		return s, usererr.New(usererr.Usage, "the value from %s is empty", from)
	}
	if s.Len() > vault.MaxValueSize {
		return vault.Secret{}, usererr.New(usererr.Usage, "the value from %s is larger than %d bytes", from, vault.MaxValueSize)
	}
	return s, nil
}

func readLimited(path string) ([]byte, error) {
	fh, err := openArg("file", path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, vault.MaxValueSize+1))
}

// parseWhen reads a date, an RFC 3339 time, or a duration from now
// (90d, 36h); "" is the zero time.
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return time.Now().AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usererr.New(usererr.Usage, "%s %q: use a date (2027-01-31), an RFC 3339 time, or a duration (90d, 36h)", flag, s)
}

func newSecretGetCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "get NAME [--version N]",
		Short: "Print a secret's value on stdout",
		Long: `Print the value of NAME (the newest enabled version, or --version N) on
stdout exactly as stored, with a newline added only on a terminal. Warnings
(expiry) go to stderr. There is no JSON form: listings never carry values.`,
		Example: "  phoenix secret get PROD_GITHUB_TOKEN\n  phoenix secret get API_KEYS --version 3 > keys.txt",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.Output == "json" {
				return usererr.New(usererr.Usage, "secret get prints the raw value only").
					WithHint("use 'phoenix secret history NAME -o json' for metadata")
			}
			v, err := g.openVault(cmd.Context(), vf, true)
			if err != nil {
				return err
			}
			defer v.close()
			var vi vault.VersionInfo
			s, err := unsealing(cmd.Context(), v, func() (s vault.Secret, err error) {
				s, vi, err = v.SecretValue(cmd.Context(), args[0], version)
				return s, err
			})
			if err != nil {
				return err
			}
			for _, w := range vi.Warnings {
				fmt.Fprintf(g.Stderr, "warning: %s version %d: %s\n", args[0], vi.Version, w)
			}
			b := s.Bytes()
			defer clear(b)
			if f, ok := g.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				b = append(b, '\n')
			}
			_, err = g.Stdout.Write(b)
			return err
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to read (default: the newest enabled one)")
	return cmd
}

func newSecretListCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	var o struct {
		Deleted bool
		Match   string
	}
	cmd := &cobra.Command{
		Use:     "list [--deleted] [--match GLOB]",
		Short:   "List secrets (names and metadata, never values)",
		Example: "  phoenix secret list\n  phoenix secret list --match 'PROD_*' -o json\n  phoenix secret list --deleted",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := g.openVault(cmd.Context(), vf, true)
			if err != nil {
				return err
			}
			defer v.close()
			items, err := unsealing(cmd.Context(), v, func() ([]vault.Info, error) { return v.Secrets(cmd.Context(), o.Deleted, o.Match) })
			if err != nil {
				return err
			}
			return g.emit(items, func(w io.Writer) error { return printSecretList(w, items, o.Deleted) })
		},
	}
	cmd.Flags().BoolVar(&o.Deleted, "deleted", false, "list deleted secrets that can still be recovered")
	cmd.Flags().StringVar(&o.Match, "match", "", "only names matching this glob")
	return cmd
}

func printSecretList(w io.Writer, items []vault.Info, deleted bool) error {
	last := "expires"
	if deleted {
		last = "purge after"
	}
	tb := newTable(w, "name", "version", "kind", "production", "system", "updated", last, "warnings")
	for _, in := range items {
		when := in.ExpiresAt
		if deleted {
			when = in.PurgeAfter
		}
		prod, system := "", ""
		if in.Production {
			prod = "yes"
		}
		if in.System {
			system = "yes" // the server's own key: listed, never read or set
		}
		tb.row(in.Name, in.Version, in.Kind, dash(prod), dash(system), in.UpdatedAt.Local().Format(time.DateTime), dash(day(when)),
			dash(strings.Join(in.Warnings, "; ")))
	}
	return tb.flush()
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(time.DateOnly)
}

func newSecretHistoryCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "history NAME",
		Short:   "List a secret's versions, newest first",
		Example: "  phoenix secret history PROD_GITHUB_TOKEN",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := g.openVault(cmd.Context(), vf, true)
			if err != nil {
				return err
			}
			defer v.close()
			vs, err := unsealing(cmd.Context(), v, func() ([]vault.VersionInfo, error) { return v.SecretHistory(cmd.Context(), args[0]) })
			if err != nil {
				return err
			}
			return g.emit(vs, func(w io.Writer) error {
				tb := newTable(w, "version", "enabled", "created", "by", "content type", "expires", "warnings")
				for _, v := range vs {
					tb.row(v.Version, yesNo(v.Enabled), v.CreatedAt.Local().Format(time.DateTime), dash(v.CreatedBy),
						dash(v.ContentType), dash(day(v.ExpiresAt)), dash(strings.Join(v.Warnings, "; ")))
				}
				return tb.flush()
			})
		},
	}
}

type rotateFlags struct {
	every, beforeExpiry, expireAfter int
	generator, alphabet              string
	length                           int
	policyOnly, clearPolicy          bool
}

func newSecretRotateCmd(g *Globals, vf *vaultFlags) *cobra.Command {
	f := &rotateFlags{}
	cmd := &cobra.Command{
		Use:   "rotate NAME [policy flags] [-- COMMAND ARGS...]",
		Short: "Give a secret a new generated value now, and set its rotation policy",
		Long: `Rotate NAME now with the generator of its rotation policy. Policy flags change
the stored policy first (the settings they name; the others stay): rotate
every N days and/or N days before expiry,
with a random token (--length, --alphabet: alnum, hex, base64url, symbols or
literal characters) or a command given after -- whose stdout is the new
value (it gets PHOENIX_SECRET_NAME and PHOENIX_SECRET_VERSION).
PHOENIX_EDGE_SESSION_KEY and PHOENIX_ACME_KEY, server keys, take no policy:
rotating them makes a new random key inside the server.`,
		Example: `  phoenix secret rotate API_KEYS
  phoenix secret rotate API_KEYS --every 30 --generator random --length 48
  phoenix secret rotate DB_PASSWORD --every 90 --generator command -- /usr/local/bin/new-db-password app`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretRotate(cmd, g, vf, f, args[0], args[1:])
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.every, "every", 0, "policy: rotate every N days")
	fl.IntVar(&f.beforeExpiry, "before-expiry", 0, "policy: rotate N days before the value expires")
	fl.IntVar(&f.expireAfter, "expire-after", 0, "policy: each new value expires after N days")
	fl.StringVar(&f.generator, "generator", "random", "policy: random or command")
	fl.IntVar(&f.length, "length", 32, "policy: random token length")
	fl.StringVar(&f.alphabet, "alphabet", "alnum", "policy: random token alphabet")
	fl.BoolVar(&f.policyOnly, "policy-only", false, "set the policy without rotating now")
	fl.BoolVar(&f.clearPolicy, "clear-policy", false, "remove the rotation policy")
	return cmd
}

// storedPolicy is name's rotation policy now (nil when it has none).
func storedPolicy(ctx context.Context, v *vaultConn, name string) (*vault.RotationPolicy, error) {
	list, err := unsealing(ctx, v, func() ([]vault.Info, error) { return v.Secrets(ctx, false, name) })
	if err != nil {
		return nil, err
	}
	for _, in := range list {
		if in.Name == name {
			return in.Rotation, nil
		}
	}
	return nil, nil
}

// policy is the rotation policy the flags ask for: the stored one (when
// there is one) with the settings the flags name changed, so that
// '--every 60' keeps the length, alphabet and expiry it had; a new
// generator (--generator or a command) replaces the old one whole.
func (f *rotateFlags) policy(fl *pflag.FlagSet, stored *vault.RotationPolicy, command []string) *vault.RotationPolicy {
	p := &vault.RotationPolicy{Generator: vault.GeneratorSpec{Type: "random", Length: f.length, Alphabet: f.alphabet}}
	if stored != nil {
		p = stored
	}
	if fl.Changed("every") || stored == nil {
		p.EveryDays = f.every
	}
	if fl.Changed("before-expiry") || stored == nil {
		p.BeforeExpiryDays = f.beforeExpiry
	}
	if fl.Changed("expire-after") || stored == nil {
		p.ExpireAfterDays = f.expireAfter
	}
	switch {
	case len(command) > 0 && !fl.Changed("generator"):
		p.Generator = vault.GeneratorSpec{Type: "command", Command: command}
	case fl.Changed("generator"):
		p.Generator = vault.GeneratorSpec{Type: f.generator, Command: command}
		if f.generator == "random" {
			p.Generator.Length, p.Generator.Alphabet = f.length, f.alphabet
		}
	}
	if p.Generator.Type == "random" {
		if fl.Changed("length") {
			p.Generator.Length = f.length
		}
		if fl.Changed("alphabet") {
			p.Generator.Alphabet = f.alphabet
		}
	}
	return p
}

// policyDone reports a change of name's rotation policy alone (no
// rotation): "NAME: RESULT", or {"name","result"} as other vault commands
// that change no version.
func policyDone(g *Globals, name, result string) error {
	return g.emit(map[string]string{"name": name, "result": result}, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s: %s\n", name, result)
		return err
	})
}

// policyFlags are the flags that set a rotation policy's settings.
var policyFlags = []string{"every", "before-expiry", "expire-after", "generator", "length", "alphabet"}

// setsPolicy names the policy settings the command line gives: the policy
// flags it sets, and a command after --.
func setsPolicy(fl *pflag.FlagSet, command []string) []string {
	var set []string
	for _, n := range policyFlags {
		if fl.Changed(n) {
			set = append(set, "--"+n)
		}
	}
	if len(command) > 0 {
		set = append(set, "a command after --")
	}
	return set
}

func runSecretRotate(cmd *cobra.Command, g *Globals, vf *vaultFlags, f *rotateFlags, name string, command []string) error {
	ctx := cmd.Context()
	fl := cmd.Flags()
	set := setsPolicy(fl, command)
	if f.clearPolicy && len(set) > 0 {
		// Removing the policy would drop the settings given with it
		// without a word.
		return usererr.New(usererr.Usage, "--clear-policy removes the rotation policy, and %s would set one: give one or the other", strings.Join(set, ", ")).
			WithHint("'phoenix secret rotate NAME --clear-policy' removes it; the policy flags alone change it, keeping the settings they do not name")
	}
	v, err := g.openVault(ctx, vf, true)
	if err != nil {
		return err
	}
	defer v.close()
	if f.clearPolicy {
		if err := unsealingErr(ctx, v, func() error { return v.SetRotation(ctx, name, nil) }); err != nil {
			return err
		}
		return policyDone(g, name, "rotation policy removed")
	}
	if len(set) > 0 {
		stored, err := storedPolicy(ctx, v, name)
		if err != nil {
			return err
		}
		p := f.policy(fl, stored, command)
		if err := unsealingErr(ctx, v, func() error { return v.SetRotation(ctx, name, p) }); err != nil {
			return err
		}
	}
	if f.policyOnly {
		return policyDone(g, name, "rotation policy set")
	}
	vi, err := unsealing(ctx, v, func() (vault.VersionInfo, error) { return v.RotateSecret(ctx, name) })
	if err != nil {
		return err
	}
	return g.emit(vi, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s: rotated to version %d\n", name, vi.Version)
		return err
	})
}
