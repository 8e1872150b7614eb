package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The server's own keys live in the vault like secrets, but like Vault's
// non-exportable transit keys their values never leave the server: only a
// System subject (the server's own code) reads or writes them. Others may
// list them and read their metadata (Info.System marks them); every read,
// write, delete, recover, purge, tag, policy or version change by anyone
// else is refused (Forbidden) and audited as a denial. The data keys can
// be rotated through Rotate, which makes the new key inside the server.
// Backups copy the vault's ciphertexts as they are, so they keep the keys.

// Names of the server's data keys: 32 random bytes in standard base64.
const (
	// EdgeSessionKeyName signs the edge's visitor session cookies.
	EdgeSessionKeyName = "PHOENIX_EDGE_SESSION_KEY"
	// ACMEKeyName seals the edge's ACME certificates, keys and account in
	// the state store.
	ACMEKeyName = "PHOENIX_ACME_KEY"
)

// systemKey is one of the server's own keys.
type systemKey struct {
	what string // what it does, for errors
	// rotate, when set, makes a new value for Rotate; without it the key
	// is never replaced through the vault's API.
	rotate      Generator
	contentType string
	why         string // why it cannot be rotated (without rotate)
	public      string // where its public half is (without rotate)
}

var systemKeys = map[string]systemKey{
	SigningKeyName: {what: "it signs every artifact",
		why:    "artifacts verify only with the key that signed them",
		public: "keys/signing.pub in the data dir, for 'phoenix artifact verify'"},
	AuditKeyName: {what: "it signs the audit log's checkpoints",
		why:    "checkpoints verify only with the key that signed them, and replicas refuse another",
		public: "keys/audit.pub in the data dir, the verifier key 'phoenix audit verify' shows"},
	EdgeSessionKeyName: {what: "it signs the edge's visitor sessions", rotate: dataKeyGenerator{},
		contentType: "application/octet-stream"},
	ACMEKeyName: {what: "it seals the edge's ACME certificates and keys", rotate: dataKeyGenerator{},
		contentType: "application/octet-stream"},
}

// SystemKeys returns the names of the server's own keys, sorted.
func SystemKeys() []string {
	names := make([]string, 0, len(systemKeys))
	for n := range systemKeys {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// IsSystemKey reports whether name is one of the server's own keys.
func IsSystemKey(name string) bool {
	_, ok := systemKeys[name]
	return ok
}

// systemGuard refuses subj an action on one of the server's own keys
// unless subj is the server itself (or the action is a rotation the
// server makes the value of); the refusal is audited. Other names pass.
func (v *Vault) systemGuard(ctx context.Context, subj Subject, action, name string) error {
	k, ok := systemKeys[name]
	if !ok || subj.System || (action == "secret.rotate" && k.rotate != nil) {
		return nil
	}
	doing := "set or changed"
	switch action {
	case "secret.read":
		doing = "read"
	case "secret.delete", "secret.purge":
		doing = "deleted"
	}
	err := usererr.Wrap(usererr.Forbidden, ErrDenied, fmt.Sprintf(
		"%s is one of the server's own keys (%s): it cannot be %s through the secret API; its value never leaves the server",
		name, k.what, doing))
	switch {
	case k.rotate != nil:
		err = err.WithHint("rotate it with 'phoenix secret rotate %s': the server makes the new key", name)
	case action == "secret.read":
		err = err.WithHint("its public half is %s", k.public)
	default:
		err = err.WithHint("it is not replaced by hand: %s", k.why)
	}
	if aerr := v.audit(ctx, AuditEvent{Actor: subj.Actor, Action: action, Target: target(name, 0),
		Outcome: OutcomeDenied, Detail: "system key"}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// firstLookup reports whether a read of name that finds no secret is the
// server looking for one of its own keys before it has made it (at its
// first start, or the first use of a data key). That is not a failed read:
// no value was asked of anyone but the server, and it is not audited; the
// key's creation that follows is (secret.write). Other failed reads of a
// system key (deleted, disabled, corrupt) are audited as failed.
func firstLookup(subj Subject, name string) bool {
	return subj.System && IsSystemKey(name)
}

// dataKeyGenerator makes a data key: 32 random bytes, standard base64
// (the form the server reads its data keys in).
type dataKeyGenerator struct{}

func (dataKeyGenerator) Generate(context.Context, GenerateRequest) (Secret, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, err
	}
	defer wipe(b)
	return SecretString(base64.StdEncoding.EncodeToString(b)), nil
}
