package vault

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
)

// Kinds of secret.
const (
	KindSecret      = "secret"
	KindCertificate = "certificate" // PEM: private key, leaf certificate, chain
	KindSigningKey  = "signing-key" // a server signing key: artifacts (PHOENIX_SIGNING_KEY), audit checkpoints (PHOENIX_AUDIT_KEY)
)

// Info is a secret's metadata: never its value.
type Info struct {
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	System      bool              `json:"system,omitempty"` // one of the server's own keys (SystemKeys): never read or set through the API
	Production  bool              `json:"production"`
	Tags        map[string]string `json:"tags,omitempty"`
	Version     int               `json:"version"` // the newest version
	ContentType string            `json:"content_type,omitempty"`
	NotBefore   time.Time         `json:"not_before,omitzero"`
	ExpiresAt   time.Time         `json:"expires_at,omitzero"`
	Certificate *CertInfo         `json:"certificate,omitempty"`
	Rotation    *RotationPolicy   `json:"rotation,omitempty"`
	RotatedAt   time.Time         `json:"rotated_at,omitzero"`
	NextRotate  time.Time         `json:"next_rotation,omitzero"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	DeletedAt   time.Time         `json:"deleted_at,omitzero"`
	PurgeAfter  time.Time         `json:"purge_after,omitzero"`
	Warnings    []string          `json:"warnings,omitempty"`
}

// VersionInfo is one version's metadata: never its value.
type VersionInfo struct {
	Name        string    `json:"name"`
	Version     int       `json:"version"`
	Enabled     bool      `json:"enabled"`
	ContentType string    `json:"content_type,omitempty"`
	NotBefore   time.Time `json:"not_before,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Certificate *CertInfo `json:"certificate,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by,omitempty"`
	Warnings    []string  `json:"warnings,omitempty"`
}

// secretRow is a vault_secrets row.
type secretRow struct {
	name, kind           string
	production           bool
	tags, rotation       string
	current              int
	rotatedAt            string
	createdAt, updatedAt string
	deletedAt, purgeAt   string
}

const secretCols = `name, kind, production, tags, rotation, current_version, rotated_at, created_at, updated_at, deleted_at, purge_after`

func scanSecret(sc interface{ Scan(...any) error }) (secretRow, error) {
	var r secretRow
	err := sc.Scan(&r.name, &r.kind, &r.production, &r.tags, &r.rotation, &r.current, &r.rotatedAt,
		&r.createdAt, &r.updatedAt, &r.deletedAt, &r.purgeAt)
	return r, err
}

// getSecret reads a secret's row; found is false when there is none.
func getSecret(ctx context.Context, q store.Querier, name string) (secretRow, bool, error) {
	r, err := scanSecret(q.QueryRowContext(ctx, `SELECT `+secretCols+` FROM vault_secrets WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return secretRow{}, false, nil
	}
	if err != nil {
		return secretRow{}, false, nameErr(name, err, "vault: read secret %s", name)
	}
	return r, true, nil
}

func (r secretRow) deleted() bool { return r.deletedAt != "" }

func (r secretRow) tagMap() map[string]string {
	var m map[string]string
	if json.Unmarshal([]byte(r.tags), &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

func (r secretRow) policy() *RotationPolicy {
	if r.rotation == "" {
		return nil
	}
	var p RotationPolicy
	if json.Unmarshal([]byte(r.rotation), &p) != nil {
		return nil
	}
	return &p
}

// versionRow is a vault_versions row without its crypto columns.
type versionRow struct {
	version              int
	enabled              bool
	contentType          string
	notBefore, expiresAt string
	cert                 string
	createdBy, createdAt string
}

const versionCols = `version, enabled, content_type, not_before, expires_at, cert, created_by, created_at`

func scanVersion(sc interface{ Scan(...any) error }, extra ...any) (versionRow, error) {
	var r versionRow
	err := sc.Scan(append([]any{&r.version, &r.enabled, &r.contentType, &r.notBefore, &r.expiresAt, &r.cert,
		&r.createdBy, &r.createdAt}, extra...)...)
	return r, err
}

func (r versionRow) info(name string) VersionInfo {
	vi := VersionInfo{Name: name, Version: r.version, Enabled: r.enabled, ContentType: r.contentType,
		NotBefore: parseTime(r.notBefore), ExpiresAt: parseTime(r.expiresAt),
		CreatedAt: parseTime(r.createdAt), CreatedBy: r.createdBy}
	if r.cert != "" {
		var c CertInfo
		if json.Unmarshal([]byte(r.cert), &c) == nil {
			vi.Certificate = &c
		}
	}
	return vi
}

// daysUntil counts whole days from now to t, rounding up (10 days minus
// a millisecond is still "10 days").
func daysUntil(now, t time.Time) int { return int(math.Ceil(t.Sub(now).Hours() / 24)) }

// warnings describes what needs attention about a version at now.
func warnings(vi VersionInfo, now time.Time, before time.Duration) []string {
	var w []string
	if !vi.Enabled {
		w = append(w, "disabled")
	}
	if !vi.NotBefore.IsZero() && now.Before(vi.NotBefore) {
		w = append(w, "not valid before "+vi.NotBefore.Format(time.DateOnly))
	}
	if e := vi.ExpiresAt; !e.IsZero() {
		switch days := daysUntil(now, e); {
		case !now.Before(e):
			w = append(w, fmt.Sprintf("expired on %s", e.Format(time.DateOnly)))
		case e.Sub(now) <= before:
			w = append(w, fmt.Sprintf("expires in %d days (%s)", days, e.Format(time.DateOnly)))
		}
	}
	return w
}
