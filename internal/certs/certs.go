// Package certs keeps the edge's TLS certificates for the custom domains of
// environments and obtains them from an ACME CA (Let's Encrypt by default)
// with certmagic: on demand at the first TLS handshake for a name, which a
// decision hook must allow first (HTTP-01, TLS-ALPN-01), or managed up
// front through DNS-01 over RFC 2136 updates (SetManaged; wildcards, and
// names the CA cannot reach), and renewed before they expire.
//
// What certmagic stores (certificates, private keys, ACME accounts,
// challenge tokens) lives in the state store (Storage), sealed with a data
// key kept in the vault (Keys), so several servers on one database share
// certificates and locks and no private key is ever in plaintext on disk or
// in the database.
package certs

import (
	"embed"

	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("certs", migrationFiles)
}
