package config

import (
	"regexp"
	"time"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// Checks are the release gates: in the default plan they run in parallel
// with the build, but for check/secrets, which also scans the build output
// and so runs after it.
type Checks struct {
	Audit      AuditCheck   `yaml:"audit" doc:"Dependency vulnerability audit against the lockfile."`
	Licenses   LicenseCheck `yaml:"licenses" doc:"Licence policy for dependencies."`
	Secrets    SecretCheck  `yaml:"secrets" doc:"Scan the source and build output for committed secrets."`
	SBOM       SBOMCheck    `yaml:"sbom" doc:"Software bill of materials stored with each release."`
	Exceptions []Exception  `yaml:"exceptions" doc:"Accepted findings, each with a reason and an expiry date."`
}

// CheckNames are the checks of the checks section, in the order phoenix
// check and the default release plan run them; a pipeline step runs one
// with uses: check/NAME.
var CheckNames = []string{"audit", "licenses", "secrets", "sbom"}

// Enabled reports whether check name (one of CheckNames) is on, as
// checks.NAME.enabled says; ok is false for a name that is no check.
func (c *Checks) Enabled(name string) (on, ok bool) {
	switch name {
	case "audit":
		return c.Audit.Enabled, true
	case "licenses":
		return c.Licenses.Enabled, true
	case "secrets":
		return c.Secrets.Enabled, true
	case "sbom":
		return c.SBOM.Enabled, true
	}
	return false, false
}

func (c *Checks) setDefaults() {
	c.Audit = AuditCheck{Enabled: true, Severity: "high"}
	c.Licenses = LicenseCheck{Enabled: true, Unknown: "review",
		Deny: []string{"AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"}}
	c.Secrets = SecretCheck{Enabled: true}
	c.SBOM = SBOMCheck{Enabled: true, Format: "cyclonedx"}
}

// AuditCheck gates on known vulnerabilities.
type AuditCheck struct {
	Enabled  bool   `yaml:"enabled" doc:"Run the audit (default true)."`
	Severity string `yaml:"severity" enum:"low,moderate,high,critical" doc:"Fail on findings of this severity or worse (default high)."`
	Dev      bool   `yaml:"dev" doc:"Also gate on vulnerabilities of development-only packages (default false)."`
}

// LicenseCheck is the licence policy; entries are SPDX identifiers.
type LicenseCheck struct {
	Enabled bool     `yaml:"enabled" doc:"Run the licence check (default true)."`
	Allow   []string `yaml:"allow" doc:"Licences accepted without review; empty accepts anything not denied."`
	Deny    []string `yaml:"deny" doc:"Licences that fail the release."`
	Review  []string `yaml:"review" doc:"Licences that need an approval before release."`
	Unknown string   `yaml:"unknown" enum:"allow,review,deny" doc:"What to do with a package whose licence is not known (default review)."`
	// Dev is nil when the file does not set it: checks.audit.dev then
	// decides, as it did for both gates before this setting.
	Dev *bool `yaml:"dev" doc:"Also gate on the licences of development-only packages; when not set, checks.audit.dev decides (default false)."`
}

// SecretCheck scans for committed secrets.
type SecretCheck struct {
	Enabled   bool             `yaml:"enabled" doc:"Run the scan (default true)."`
	Exclude   []string         `yaml:"exclude" doc:"Path globs not scanned, e.g. test/fixtures/**."`
	Allowlist []SecretAllowing `yaml:"allowlist" doc:"Known false positives."`
}

// SecretAllowing allows one known false positive.
type SecretAllowing struct {
	Path        string `yaml:"path" doc:"Path glob the finding is in."`
	Rule        string `yaml:"rule" doc:"Detector rule id, e.g. generic-api-key."`
	Fingerprint string `yaml:"fingerprint" doc:"Fingerprint of the finding as printed by phoenix check secrets."`
	Reason      string `yaml:"reason" required:"true" doc:"Why it is not a secret."`
}

// SBOMCheck configures the bill of materials.
type SBOMCheck struct {
	Enabled bool   `yaml:"enabled" doc:"Generate an SBOM for each release (default true)."`
	Format  string `yaml:"format" enum:"cyclonedx,spdx" doc:"SBOM format of phoenix check sbom and the pipeline's check/sbom step: cyclonedx (CycloneDX 1.6 JSON, the default) or spdx (SPDX 2.3 JSON)."`
}

// Exception accepts one finding until it expires. It belongs to one check:
// Check, or the one its id (an advisory: audit) or license (licenses)
// implies; validate refuses one that says neither, which would accept the
// findings of both.
type Exception struct {
	Check    string `yaml:"check" enum:"audit,licenses" doc:"The check whose findings the exception accepts: audit or licenses. Required unless id (audit) or license (licenses) says it."`
	ID       string `yaml:"id" doc:"Advisory id (GHSA-…, CVE-…) the exception covers."`
	Package  string `yaml:"package" doc:"Package name, e.g. lodash or @scope/name."`
	Versions string `yaml:"versions" doc:"Semver constraint on the package version, e.g. <4.17.21."`
	License  string `yaml:"license" doc:"Licence (SPDX id) accepted for this package."`
	Reason   string `yaml:"reason" required:"true" doc:"Why the finding is accepted."`
	Expires  Date   `yaml:"expires" required:"true" pattern:"date" doc:"Date (YYYY-MM-DD) after which the exception no longer applies."`
}

var (
	spdxRx     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)
	advisoryRx = regexp.MustCompile(`^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|CVE-[0-9]{4}-[0-9]{4,}|[A-Z][A-Z0-9]*-[A-Za-z0-9._:-]+)$`)
	npmNameRx  = regexp.MustCompile(`^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9._~-][a-z0-9._~-]*$`)
)

func (c *Checks) validate(v *validator) {
	c.Licenses.validate(v)
	if c.Audit.Dev && c.Licenses.Dev == nil {
		v.warnf("checks.audit.dev", "set checks.licenses.dev: true to keep that, or false to gate production licences only",
			"also gates the licences of development-only packages while checks.licenses.dev is not set")
	}
	for i, a := range c.Secrets.Allowlist {
		p := indexPath("checks.secrets.allowlist", i)
		if a.Reason == "" {
			v.errorf(p+".reason", "say why this finding is not a secret", "is required")
		}
		if a.Path == "" && a.Rule == "" && a.Fingerprint == "" {
			v.errorf(p, "set path, rule or fingerprint", "matches nothing")
		}
	}
	for i := range c.Exceptions {
		c.Exceptions[i].validate(v, indexPath("checks.exceptions", i))
	}
}

func (l *LicenseCheck) validate(v *validator) {
	where := map[string]string{}
	for _, list := range []struct {
		name string
		ids  []string
	}{{"allow", l.Allow}, {"deny", l.Deny}, {"review", l.Review}} {
		for i, id := range list.ids {
			p := indexPath("checks.licenses."+list.name, i)
			if !spdxRx.MatchString(id) {
				v.errorf(p, "use an SPDX identifier such as MIT or Apache-2.0", "%q is not a licence identifier", clip(id))
			}
			if prev, ok := where[id]; ok && prev != list.name {
				v.errorf(p, "keep each licence in one list", "%s is also in checks.licenses.%s", id, prev)
			}
			where[id] = list.name
		}
	}
}

func (e *Exception) validate(v *validator, p string) {
	if e.ID == "" && e.Package == "" {
		v.errorf(p, "set id (an advisory) or package", "an exception needs an id or a package")
	}
	if e.ID != "" && !advisoryRx.MatchString(e.ID) {
		v.errorf(p+".id", "use an advisory id such as GHSA-xxxx-xxxx-xxxx or CVE-2024-12345", "%q is not an advisory id", clip(e.ID))
	}
	if e.Package != "" && !npmNameRx.MatchString(e.Package) {
		v.errorf(p+".package", "use the package name as in package.json", "%q is not a package name", clip(e.Package))
	}
	if e.Versions != "" {
		if _, err := semver.NewConstraint(e.Versions); err != nil {
			v.errorf(p+".versions", "write a semver constraint such as <4.17.21 or >=1.0.0 <1.2.3", "%q is not a valid semver constraint", clip(e.Versions))
		}
	}
	if e.License != "" && !spdxRx.MatchString(e.License) {
		v.errorf(p+".license", "use an SPDX identifier", "%q is not a licence identifier", clip(e.License))
	}
	if e.Reason == "" {
		v.errorf(p+".reason", "say why the finding is accepted", "is required")
	}
	e.validateCheck(v, p)
	e.validateExpiry(v, p)
}

// validateCheck makes sure the exception belongs to one check. Before the
// check field, an exception of only package (and versions) accepted the
// package's vulnerabilities and licence findings alike, whichever its
// reason was written for.
func (e *Exception) validateCheck(v *validator, p string) {
	switch {
	case e.ID != "" && e.License != "":
		v.errorf(p, "write one exception for the advisory and one for the licence",
			"sets both id (an advisory, which the audit reports) and license (which the licence check reports)")
	case e.Check == "licenses" && e.ID != "":
		v.errorf(p+".check", "remove check: id makes it an audit exception", "licenses reports no advisories, but the exception names one in id")
	case e.Check == "audit" && e.License != "":
		v.errorf(p+".check", "remove check: license makes it a licence exception", "audit reports no licences, but the exception names one in license")
	case e.Check == "" && e.ID == "" && e.License == "" && e.Package != "":
		v.errorf(p, "add check: audit or check: licenses, or name the advisory (id:) or the licence (license:)",
			"would accept both the audit's and the licence check's findings of %s", e.Package)
	}
}

// CheckName is the check whose findings the exception accepts: check, or
// audit for an advisory id, licenses for a licence; "" for an exception
// that validation refuses.
func (e *Exception) CheckName() string {
	switch {
	case e.Check != "":
		return e.Check
	case e.ID != "":
		return "audit"
	case e.License != "":
		return "licenses"
	}
	return ""
}

func (e *Exception) validateExpiry(v *validator, p string) {
	if e.Expires == "" {
		v.errorf(p+".expires", "exceptions must end: add expires: YYYY-MM-DD", "is required")
		return
	}
	t, err := time.Parse(time.DateOnly, string(e.Expires))
	if err != nil {
		if matches("date", string(e.Expires)) { // the pattern check reports other shapes
			v.errorf(p+".expires", "write a real date as YYYY-MM-DD", "%q is not a date", clip(string(e.Expires)))
		}
		return
	}
	if t.Before(time.Now().Truncate(24 * time.Hour)) {
		v.warnf(p+".expires", "renew it or fix the finding", "exception expired on %s and no longer applies", e.Expires)
	}
}

// ExpiresAt returns the end of the exception's last day (UTC), or false if
// the date is not valid.
func (e *Exception) ExpiresAt() (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, string(e.Expires))
	return t.Add(24 * time.Hour), err == nil
}

// Date is a calendar date written YYYY-MM-DD, quoted or not.
type Date string

func (dt *Date) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!timestamp") {
		d.typeErr(n, path, "a date", "write YYYY-MM-DD")
		return
	}
	*dt = Date(n.Value)
}
