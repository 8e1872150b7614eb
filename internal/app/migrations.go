package app

import (
	"embed"
	"io/fs"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// migrations lists every domain's schema, in dependency order. This is the
// one registry of tables; a domain joins by adding its Migrations here.
func migrations() []store.Migrations {
	return []store.Migrations{audit.Migrations(), auth.Migrations(), deploy.Migrations(), vault.Migrations(), pipeline.Migrations(),
		monitor.Migrations(), notify.Migrations(), replicaMigrations(), certs.Migrations(), projectcfg.Migrations(), upgradeMigrations()}
}

//go:embed upgrades/*.sql
var upgradeFiles embed.FS

// upgradeMigrations are the data fixes of an upgrade that span domains
// (read one's tables to correct another's): the domain "upgrade",
// migrated last, when every table it reads is there. On a new store they
// change nothing.
func upgradeMigrations() store.Migrations {
	sub, _ := fs.Sub(upgradeFiles, "upgrades") // a valid folder name
	return store.Migrations{Domain: "upgrade", FS: sub}
}
