package config

import (
	"net/url"
	"slices"
	"time"
)

// Backup configures backups of releases, state and the vault.
type Backup struct {
	Enabled    bool      `yaml:"enabled" doc:"Take scheduled backups (default true)."`
	Frequency  string    `yaml:"frequency" doc:"hourly, daily, weekly, or a five-field cron expression (default daily)."`
	Retention  Retention `yaml:"retention" doc:"How long backups are kept: \"90\" (days), \"90d\", \"12w\" (default 90 days)."`
	Target     string    `yaml:"target" enum:"local,geo-redundant,s3" doc:"Where backups go: local disk, a second site, or S3-compatible storage (default local)."`
	Path       string    `yaml:"path" doc:"Directory or s3://bucket/prefix for the target."`
	Encryption bool      `yaml:"encryption" doc:"Encrypt backups (default true)."`
	Validation bool      `yaml:"validation" doc:"Restore-test each backup after taking it (default true)."`
	RPO        Duration  `yaml:"rpo" doc:"Recovery point objective; a warning is raised when the schedule cannot meet it (default: none)."`
	RTO        Duration  `yaml:"rto" doc:"Recovery time objective, reported by restore drills (default: none)."`
}

func (b *Backup) setDefaults() {
	*b = Backup{Enabled: true, Frequency: "daily", Retention: Retention(90 * 24 * time.Hour), Target: "local",
		Encryption: true, Validation: true}
}

var frequencies = map[string]string{"hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly"}

// Schedule returns the backup frequency as a cron expression.
func (b *Backup) Schedule() string {
	if s, ok := frequencies[b.Frequency]; ok {
		return s
	}
	return b.Frequency
}

func (b *Backup) validate(v *validator) {
	if _, err := ParseCron(b.Schedule(), ""); err != nil {
		v.errorf("backup.frequency", `use hourly, daily, weekly, monthly or a cron expression such as "0 2 * * *"`, "%q is not a schedule: %v", clip(b.Frequency), err)
	}
	if b.Retention <= 0 {
		v.errorf("backup.retention", `write e.g. "90" or "90d"`, "must be positive")
	}
	if b.Target == "s3" {
		if u, err := url.Parse(b.Path); err != nil || u.Scheme != "s3" || u.Host == "" {
			v.errorf("backup.path", "write s3://bucket/prefix", "an s3 target needs an s3:// path")
		}
	} else {
		v.relPath("backup.path", b.Path)
	}
	if !b.Encryption {
		v.warnf("backup.encryption", "backups hold vault and audit data; keep encryption on", "backups are not encrypted")
	}
	if period := b.period(); b.Enabled && b.RPO > 0 && period > b.RPO.D() {
		v.warnf("backup.rpo", "back up more often, or run a standby replica",
			"backups every %s cannot meet an RPO of %s", FormatDuration(period), FormatDuration(b.RPO.D()))
	}
}

// Vault configures the secret store.
type Vault struct {
	Backend  string         `yaml:"backend" enum:"local,azure-keyvault" doc:"local: encrypted on the server (default); azure-keyvault: read from Azure Key Vault."`
	URL      string         `yaml:"url" doc:"Key Vault URL for azure-keyvault, e.g. https://my-vault.vault.azure.net."`
	Required []string       `yaml:"required" pattern:"envvar" doc:"Secrets a release fetches (and fails without) before it deploys, e.g. PROD_TEAMS_WEBHOOK_URL."`
	Rotation []RotationRule `yaml:"rotation" doc:"Secrets a release warns of when their newest version is older than every (a check; the server rotates secrets with a rotation policy)."`
}

func (vt *Vault) setDefaults() { vt.Backend = "local" }

// RotationRule asks for a secret to be rotated every interval.
type RotationRule struct {
	Secret string   `yaml:"secret" required:"true" pattern:"envvar" doc:"Secret name."`
	Every  Duration `yaml:"every" required:"true" doc:"Maximum age, e.g. 90d."`
}

func (vt *Vault) validate(v *validator) {
	if vt.Backend == "azure-keyvault" {
		if u, err := url.Parse(vt.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			v.errorf("vault.url", "write https://<name>.vault.azure.net", "azure-keyvault needs the vault URL")
		}
		v.warnf("vault.backend", "store them with phoenix secret set NAME or phoenix secret import FILE",
			"azure-keyvault is not wired yet: releases read their secrets from the Phoenix vault")
	} else if vt.URL != "" {
		v.errorf("vault.url", "remove it, or set backend: azure-keyvault", "url applies only to azure-keyvault")
	}
	var seen []string
	for i, r := range vt.Rotation {
		p := indexPath("vault.rotation", i)
		if r.Secret == "" {
			v.errorf(p+".secret", "", "is required")
		} else if slices.Contains(seen, r.Secret) {
			v.errorf(p+".secret", "keep one rule per secret", "%s has two rotation rules", r.Secret)
		}
		seen = append(seen, r.Secret)
		if r.Every < Duration(time.Hour) {
			v.errorf(p+".every", `write e.g. "90d"`, "must be at least 1h")
		}
	}
}

// period returns the longest gap between backups over about a month, or 0
// when the schedule is invalid.
func (b *Backup) period() time.Duration {
	sched, err := ParseCron(b.Schedule(), "")
	if err != nil {
		return 0
	}
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end, longest := t.Add(70*24*time.Hour), time.Duration(0)
	for i := 0; i < 2000 && t.Before(end); i++ {
		next := sched.Next(t)
		if next.IsZero() {
			return 0
		}
		if i > 0 {
			longest = max(longest, next.Sub(t))
		}
		t = next
	}
	return longest
}
