package vault

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// redacted is what every printing of a Secret shows.
const redacted = "[redacted]"

// Secret is a secret value. It redacts itself wherever it could be printed
// or serialized by accident (fmt verbs, %#v, JSON, text, slog); the value is
// reached only through Reveal or Bytes, which are easy to grep for.
//
// The bytes sit behind a pointer, so even a struct that holds a Secret in
// an unexported field (which fmt prints without calling methods) shows an
// address, never the value.
type Secret struct {
	v *secretBytes
}

type secretBytes struct{ b []byte }

// NewSecret returns a Secret holding a copy of b.
func NewSecret(b []byte) Secret { return Secret{v: &secretBytes{b: append([]byte(nil), b...)}} }

// SecretString returns a Secret holding s.
func SecretString(s string) Secret { return Secret{v: &secretBytes{b: []byte(s)}} }

func (s Secret) raw() []byte {
	if s.v == nil {
		return nil
	}
	return s.v.b
}

// Reveal returns the value as a string.
func (s Secret) Reveal() string { return string(s.raw()) }

// Bytes returns a copy of the value.
func (s Secret) Bytes() []byte { return append([]byte(nil), s.raw()...) }

// Len is the value's length in bytes.
func (s Secret) Len() int { return len(s.raw()) }

// IsZero reports whether the value is empty.
func (s Secret) IsZero() bool { return len(s.raw()) == 0 }

// Equal compares two values in constant time.
func (s Secret) Equal(o Secret) bool { return subtle.ConstantTimeCompare(s.raw(), o.raw()) == 1 }

// String redacts.
func (s Secret) String() string { return redacted }

// GoString redacts, for %#v.
func (s Secret) GoString() string { return "vault.Secret(" + redacted + ")" }

// Format redacts for every verb, so %x, %q and %v cannot leak the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText redacts (YAML, encoding/xml, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue redacts in log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// wipe overwrites b with zeros; used on data keys and plaintext buffers the
// vault owns once they are no longer needed.
func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
