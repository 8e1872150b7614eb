package vault

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Resolver fetches a secret by reference for a subject. The vault is one;
// other sources (Azure Key Vault, HashiCorp Vault) implement it too and
// join through a Mux.
//
// A reference is NAME or NAME@VERSION for the vault; a Mux routes
// "source:REF" to the Resolver registered for source.
type Resolver interface {
	Resolve(ctx context.Context, ref string, subj Subject) (Secret, error)
}

// ParseRef splits NAME@VERSION (version 0 when absent).
func ParseRef(ref string) (name string, version int, err error) {
	name, ver, has := strings.Cut(ref, "@")
	if has {
		if version, err = strconv.Atoi(ver); err != nil || version < 1 {
			return "", 0, usererr.New(usererr.Invalid, "secret reference %q: the version after @ must be a positive number", clip(ref))
		}
	}
	if err := checkName(name); err != nil {
		return "", 0, err
	}
	return name, version, nil
}

// Resolve implements Resolver: ref is NAME or NAME@VERSION, optionally
// prefixed by "secret:".
func (v *Vault) Resolve(ctx context.Context, ref string, subj Subject) (Secret, error) {
	name, version, err := ParseRef(strings.TrimPrefix(ref, "secret:"))
	if err != nil {
		return Secret{}, err
	}
	s, _, err := v.Get(ctx, subj, name, version)
	return s, err
}

// Mux routes references by their "source:" prefix to registered
// Resolvers; a reference without a known prefix goes to the default
// (normally the vault).
type Mux struct {
	mu      sync.RWMutex
	def     Resolver
	sources map[string]Resolver
}

// NewMux returns a Mux whose unprefixed references go to def.
func NewMux(def Resolver) *Mux {
	return &Mux{def: def, sources: map[string]Resolver{"secret": def}}
}

// Register adds a source, e.g. "azkv" for Azure Key Vault.
func (m *Mux) Register(source string, r Resolver) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources[source] = r
}

// Resolve implements Resolver.
func (m *Mux) Resolve(ctx context.Context, ref string, subj Subject) (Secret, error) {
	m.mu.RLock()
	src, rest, ok := strings.Cut(ref, ":")
	r, known := m.sources[src]
	def := m.def
	m.mu.RUnlock()
	if ok && known {
		return r.Resolve(ctx, rest, subj)
	}
	if ok {
		return Secret{}, usererr.New(usererr.Invalid, "secret reference %q: source %q is not registered", clip(ref), clip(src))
	}
	if def == nil {
		return Secret{}, usererr.New(usererr.Unavailable, "secret reference %q: no vault is available", clip(ref))
	}
	return def.Resolve(ctx, ref, subj)
}

// LookupFunc adapts r to the func(name) (string, error) that
// config.SecretRef.Resolve takes.
func LookupFunc(ctx context.Context, r Resolver, subj Subject) func(name string) (string, error) {
	return func(name string) (string, error) {
		s, err := r.Resolve(ctx, name, subj)
		if err != nil {
			return "", err
		}
		return s.Reveal(), nil
	}
}
