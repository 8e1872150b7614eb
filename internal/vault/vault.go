// Package vault keeps Phoenix's secrets: production credentials, webhook
// URLs, API keys, TLS certificates and the artifact signing key.
//
// Every version of a secret is encrypted with its own random data key
// (AES-256-GCM); the data key is wrapped by a key-encryption key (KEK)
// derived with argon2id and HKDF from a master key that the operator gives
// by environment variable, file or passphrase. The KEK lives only in
// memory: a server started without the master key runs but the vault is
// sealed, and every secret operation fails with "vault is sealed; run
// phoenix vault unseal" until Unseal is called with the right key. A wrong
// key is detected against a check value, so it decrypts nothing and
// changes nothing.
//
// Secrets are versioned (every Set makes a version; versions can be
// disabled), soft-deleted with a recovery window (90 days by default)
// before purge, carry tags, a content type and not-before/expiry dates,
// and may have a rotation policy (random token, command hook, or a
// generator the app registers). Access policies decide which roles,
// pipelines and environments may read, list or write which names;
// production secrets are only for production runs. Every read, write and
// denial goes to the Auditor, and a read whose audit record cannot be
// written returns no value (the audit fails closed). The server's own keys
// (SystemKeys: artifact and audit signing keys, data keys) are read and
// written by the server alone (Subject.System), never through the API.
//
// Values travel as Secret, which redacts itself in every printing and
// serialization. Nothing in the database is plaintext: names, tags and
// dates are metadata, values and data keys are ciphertext bound (through
// the GCM additional data) to their vault, secret name and version.
package vault

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("vault", migrationFiles)
}

// Options configures a Vault.
type Options struct {
	DB       *store.DB
	Logger   *slog.Logger
	Now      func() time.Time
	Auditor  Auditor  // receives every read, write and denial; nil records nothing
	Notifier Notifier // told about every rotation; may be nil
	Policy   *Policy  // access rules; nil means DefaultPolicy
	// RecoveryWindow is how long a deleted secret can be recovered before
	// PurgeExpired removes it (default 90 days).
	RecoveryWindow time.Duration
	// WarnBefore is how long before expiry a secret or certificate starts
	// to carry a warning (default 30 days).
	WarnBefore time.Duration
	// KDF is the argon2id cost Init stores (default DefaultKDF).
	KDF KDFParams
	// Generators are extra rotation generators by name, e.g. "workflow".
	Generators map[string]Generator
	// CommandTimeout bounds a rotation command hook (default 1 minute).
	CommandTimeout time.Duration
	// CommandEnv is the environment of rotation command hooks, to which
	// PHOENIX_SECRET_NAME and PHOENIX_SECRET_VERSION are added (default:
	// the process's environment without the master key variables). The
	// server passes its children's environment, without any of its keys.
	CommandEnv []string
	// Sealed, when set, makes the error of an operation on the sealed
	// vault instead of SealedError (it must wrap ErrSealed): a server that
	// lives for one command (the CLI's in-process server), which no
	// 'phoenix vault unseal' can reach, says how else to open it.
	Sealed func() error
	// OnUnseal, if set, is called after each successful Init or Unseal,
	// with the vault open, e.g. to hand the audit log its key from the
	// vault. It runs in the caller's goroutine and must not call Init,
	// Unseal or Seal.
	OnUnseal func(context.Context)
	// OnChange, if set, is called with a secret's name after a change to
	// it commits: a new version (set, import, rotation), a version
	// enabled or disabled, new tags, a deletion, recovery or purge. It
	// never gets a value; the server reloads what reads the secret (a
	// notification channel's webhook URL). It runs in the caller's
	// goroutine, with no lock of the vault held.
	OnChange func(ctx context.Context, name string)
}

// Vault is the secrets domain.
type Vault struct {
	opts Options
	pol  Policy

	mu      sync.RWMutex
	kek     []byte // nil while sealed
	vaultID string
	// selfSealed holds the vault id when the vault sealed itself, the
	// master key having been changed on another server, and that is not
	// audited yet (auditSelfSeal). Not under mu, which Rekey holds across
	// its transaction.
	selfSealed atomic.Pointer[string]
}

// New returns a sealed Vault; call Unseal (or Init on a new data dir).
func New(opts Options) (*Vault, error) {
	if opts.DB == nil {
		return nil, errors.New("vault: no database")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RecoveryWindow <= 0 {
		opts.RecoveryWindow = 90 * 24 * time.Hour
	}
	if opts.WarnBefore <= 0 {
		opts.WarnBefore = 30 * 24 * time.Hour
	}
	if opts.KDF == (KDFParams{}) {
		opts.KDF = DefaultKDF
	}
	if opts.CommandEnv == nil {
		opts.CommandEnv = withoutMasterKey(os.Environ())
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = time.Minute
	}
	pol := DefaultPolicy()
	if opts.Policy != nil {
		pol = *opts.Policy
	}
	if err := pol.Validate(); err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, "vault: access policy: "+err.Error())
	}
	return &Vault{opts: opts, pol: pol}, nil
}

// Sentinel causes, for errors.Is; the errors returned are *usererr.Error
// values that wrap them with a message and hint.
var (
	ErrSealed         = errors.New("vault is sealed")
	ErrNotInitialized = errors.New("vault is not initialized")
	ErrWrongKey       = errors.New("wrong master key")
	ErrCorrupt        = errors.New("ciphertext failed authentication")
	ErrDenied         = errors.New("access denied")
	// ErrProductionOnly is the denial of a production secret to a run
	// that does not deploy to production; it is also ErrDenied.
	ErrProductionOnly = fmt.Errorf("%w: a production secret, read only by production runs", ErrDenied)
	ErrNotFound       = errors.New("secret not found")
)

// SealedError is the error of an operation on a sealed vault (unless
// Options.Sealed says otherwise): the server runs, and 'phoenix vault
// unseal' (or a secret command given the key) opens its vault.
func SealedError() error {
	return usererr.Wrap(usererr.Unavailable, ErrSealed, "vault is sealed; run phoenix vault unseal").
		WithHint("give the master key with PHOENIX_MASTER_KEY_FILE, --master-key-file, PHOENIX_MASTER_KEY or the passphrase prompt")
}

// NotInitializedError is the error of an operation on a vault never
// initialized, in the words docs/vault.md shows, whether the server says
// it (503) or a command that checked the vault's status first: it wraps
// ErrNotInitialized and ErrSealed (there is no key to give).
func NotInitializedError() error {
	return usererr.Wrap(usererr.Unavailable, errors.Join(ErrSealed, ErrNotInitialized), "vault is not initialized: it holds no secrets yet").
		WithHint("run phoenix vault init (see docs/vault.md)")
}

// sealedErr is the error of an operation on the sealed vault: for a
// vault never initialized, that it is not (it has no key to give; it
// wraps ErrSealed too, for callers waiting for an unseal); else
// Options.Sealed's, else SealedError.
func (v *Vault) sealedErr() error {
	if _, err := loadMeta(context.Background(), v.opts.DB); errors.Is(err, ErrNotInitialized) {
		return NotInitializedError()
	}
	if v.opts.Sealed != nil {
		return v.opts.Sealed()
	}
	return SealedError()
}

// notFound is the error of a name no secret has, which it shows as the
// audit log does (AuditedName): the caller's answer goes to the API's
// audit record of a refused change, and to logs.
func notFound(name string) error {
	return usererr.Wrap(usererr.NotFound, ErrNotFound, fmt.Sprintf("secret %s does not exist", AuditedName(name))).
		WithHint("see 'phoenix secret list'")
}

var nameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ValidName reports whether name can name a secret: letters, digits and
// _, not starting with a digit, at most 128 characters (the same rule as
// environment variables, so secret:NAME references and step variables
// agree).
func ValidName(name string) bool { return nameRe.MatchString(name) }

// Conventional reports whether name is in the usual style of a vault
// name: upper case, digits and _ (DB_PASSWORD), and not shaped like a
// credential (an AWS access key id is upper case and digits). Messages
// and the audit log show other names only of secrets that exist: a name
// no secret has may be a value pasted where a name was asked for (a TSIG
// key's base64 secret without +, / or = passes ValidName).
func Conventional(name string) bool {
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return name != "" && credentialLike(name) == ""
}

// AuditedName is how the audit log, which keeps what it records for
// ever, names a secret asked for that does not exist (or may not: a
// request's name before it is looked up): as asked when Conventional,
// else by a fingerprint that confirms a suspected name without showing
// it. Messages that echo a name from a request, and the server's log,
// name it so too.
func AuditedName(name string) string {
	if Conventional(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("(a name of %d characters, sha256 %x…)", len(name), sum[:8])
}

// nameErr is the error of an operation on the secret name that failed
// for no fault of the caller's (the database's): "format: err", which the
// API answers as an internal error and logs in full (a 500). A name not in
// the usual style may be a value pasted where a name was asked for, so it
// is written there as the audit log writes it (AuditedName), also where
// the cause's text quotes it (a database error may). errors.Is and As see
// the cause.
func nameErr(name string, err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...) + ": " + err.Error()
	if name != "" && !Conventional(name) {
		msg = strings.ReplaceAll(msg, name, AuditedName(name))
	}
	return &namedError{msg: msg, err: err}
}

// namedError is nameErr's error: its text, with the name fingerprinted,
// and the cause.
type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// recorded is how the vault's records and messages name a secret after
// looking it up: as it is called when one has the name, else AuditedName.
func recorded(name string, found bool) string {
	if found {
		return name
	}
	return AuditedName(name)
}

// RecordedName is how the audit log names the secret a request gave:
// as given when Conventional or a secret (live or deleted) has the name,
// else by AuditedName's fingerprint, as the vault's own records do. The
// API names the secret of its record of a refused change so.
func (v *Vault) RecordedName(ctx context.Context, name string) string {
	if Conventional(name) || !ValidName(name) {
		return AuditedName(name)
	}
	_, found, err := getSecret(ctx, v.opts.DB, name)
	return recorded(name, found && err == nil)
}

// hintName is a name no secret has in a command of a hint: as given
// when Conventional, else the placeholder NAME.
func hintName(name string) string {
	if Conventional(name) {
		return name
	}
	return "NAME"
}

func checkName(name string) error {
	if ValidName(name) {
		return nil
	}
	if name == "" {
		return usererr.New(usererr.Invalid, "secret name is empty: use letters, digits and _, not starting with a digit (at most 128)")
	}
	// Not echoed: an invalid name may be a value pasted where a name was
	// asked for (a JWT, a URL), and the answer reaches the API's audit
	// record of a refused change. What is wrong with it is said instead.
	why := "it is longer than 128 characters"
	if i := strings.IndexFunc(name, func(c rune) bool { return !isNameRune(c) }); i >= 0 {
		_, n := utf8.DecodeRuneInString(name[i:])
		why = fmt.Sprintf("its character %d is %q", utf8.RuneCountInString(name[:i])+1, name[i:i+n])
	} else if name[0] >= '0' && name[0] <= '9' {
		why = "it starts with a digit"
	}
	return usererr.New(usererr.Invalid, "secret name %s is invalid: %s; use letters, digits and _, not starting with a digit (at most 128)",
		AuditedName(name), why)
}

func isNameRune(c rune) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// clip shortens s for error messages (names only; never values).
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// unsealedKEK returns a copy of the KEK (Seal may wipe the original while
// an operation is in flight) and the vault id, or the sealed error.
func (v *Vault) unsealedKEK() ([]byte, string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.kek == nil {
		return nil, "", v.sealedErr()
	}
	return append([]byte(nil), v.kek...), v.vaultID, nil
}

// tx runs fn in a store transaction. A write that found the master key
// changed elsewhere sealed the vault in it (staleKEK): that is audited
// once the transaction is over.
func (v *Vault) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := v.opts.DB.Tx(ctx, fn)
	v.auditSelfSeal(ctx)
	return err
}

func (v *Vault) now() time.Time { return v.opts.Now().UTC() }
