package project

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Render returns a commented phoenix.yaml for d: the detected build and
// tests, the release gates, staging and production environments, the seed
// workflow's monitoring and alert defaults, and a Teams channel whose URL is
// a secret reference, commented out until that secret is stored. The result
// passes config.Parse without problems.
func Render(d *Detection) []byte {
	w := &writer{}
	renderHeader(w, d)
	renderBuild(w, d)
	renderTests(w, d)
	if d.Framework == "static" {
		w.text(staticChecksSection)
	} else {
		w.text(checksSection)
	}
	w.text(environmentsSection)
	w.text(monitorSection)
	w.text(notifySection)
	w.text(tailSection)
	return []byte(w.String())
}

// writer accumulates YAML text.
type writer struct{ strings.Builder }

func (w *writer) line(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

func (w *writer) text(s string) { w.WriteString(s) }

var plainRx = regexp.MustCompile(`^[A-Za-z0-9_./@-]([A-Za-z0-9 _./@=+,:-]*[A-Za-z0-9_./@=+-])?$`)
var reservedRx = regexp.MustCompile(`(?i)^(true|false|yes|no|on|off|null|~|y|n|[-+]?[0-9][0-9_.eE+-]*|0x[0-9a-f]+|0o[0-7]+)$`)

// q quotes s for YAML when it could be misread as something else.
func q(s string) string {
	if plainRx.MatchString(s) && !reservedRx.MatchString(s) && !strings.Contains(s, ": ") && !strings.Contains(s, " #") {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// comment makes s safe inside a YAML comment: one line, printable runes.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

func renderHeader(w *writer, d *Detection) {
	w.line("# yaml-language-server: $schema=%s", config.SchemaID)
	w.line("#")
	w.line("# phoenix.yaml for %s, written by phoenix init. Check it with: phoenix validate", d.Name)
	w.line("# Every section is documented in docs/configuration.md; defaults apply to what is left out.")
	for _, n := range d.Notes {
		w.line("#")
		w.line("# NOTE: %s", comment(n))
	}
	w.line("version: 1")
	w.line("")
	w.line("# The project name is a DNS label: each environment answers at")
	w.line("# http://<environment>.%s.localhost:<edge port>/, on its own domains, and with", d.Name)
	w.line("# phoenix server --sites-domain D at <environment>.%s.D.", d.Name)
	w.line("project:")
	w.line("  name: %s", q(d.Name))
	w.line("")
	w.line("# A release is a tag such as v1.2.0. It passes the checks and tests, is built once,")
	w.line("# then goes to each environment in this order.")
	w.line("release:")
	w.line("  tag_prefix: v")
	w.line("  environments: [staging, production]")
	w.line("")
}

func renderBuild(w *writer, d *Detection) {
	if d.Framework == "static" {
		renderStaticBuild(w, d)
		return
	}
	w.line("# How the site is built: install runs in the project root, the build in the app")
	w.line("# directory. Detected: %s", comment(buildSummary(d)))
	w.line("build:")
	pm := d.PackageManager
	if pm == "" {
		pm = "auto"
	}
	w.line("  package_manager: %s", pm)
	if d.App != "" {
		w.line("  app: %s   # the workspace package that is deployed", q(d.App))
	}
	if d.Node != "" {
		w.line("  node: %s   # from %s", q(d.Node), comment(d.NodeSource))
	} else {
		w.line("  # node: \"22\"   # pin the Node.js version (semver range or lts)")
	}
	if d.Install != "" {
		w.line("  install: %s", q(d.Install))
	}
	if d.BuildCommand != "" {
		w.line("  command: %s", q(d.BuildCommand))
	} else if d.Framework != "static" {
		w.line("  # command: npm run build   # no build script was found")
	}
	w.line("  output: %s   # %s", q(d.Output), comment(d.OutputSource))
	if d.SWAConfig != "" {
		w.line("  # Routes, headers and fallbacks come from %s (Static Web Apps semantics).", d.SWAConfig)
	}
	w.line("")
}

// renderStaticBuild writes the build section of a folder of static files:
// no package manager and no build command, only the folder to deploy.
func renderStaticBuild(w *writer, d *Detection) {
	w.line("# A folder of static files (%s): nothing is installed", comment(d.OutputSource))
	w.line("# or built, the output folder is deployed as it is (without phoenix.yaml and .git).")
	w.line("# When the site needs a build, add its command and point output at what it writes:")
	w.line("#   command: ./build.sh   # runs in this folder")
	w.line("build:")
	w.line("  output: %s", q(d.Output))
	if d.SWAConfig != "" {
		w.line("  # Routes, headers and fallbacks come from %s (Static Web Apps semantics).", d.SWAConfig)
	}
	w.line("")
}

func buildSummary(d *Detection) string {
	parts := []string{}
	if d.PackageManager != "" {
		parts = append(parts, d.PackageManager+" ("+d.PackageManagerSource+")")
	}
	if d.Framework != "" {
		parts = append(parts, d.Framework)
	}
	if d.SWAConfig != "" {
		parts = append(parts, d.SWAConfig)
	}
	return strings.Join(parts, ", ")
}

func renderTests(w *writer, d *Detection) {
	w.line("# Tests start once the dependencies are installed (the install step), then run in")
	w.line("# parallel with the build and the checks; any failure stops the release.")
	w.line("# Point junit at JUnit XML and coverage at lcov/Cobertura to get per-test results")
	w.line("# and a coverage gate.")
	if len(d.Tests) == 0 {
		w.line("# tests:")
		w.line("#   unit:")
		w.line("#     command: npm test")
		w.line("")
		return
	}
	w.line("tests:")
	for _, t := range d.Tests {
		w.line("  %s:", t.Kind)
		w.line("    command: %s", q(t.Command))
		switch t.Kind {
		case "unit":
			w.line("    # junit: reports/junit.xml")
			w.line("    # coverage: coverage/lcov.info")
		case "e2e", "load":
			w.line("    target: staging   # runs against the staging deployment")
		}
	}
	w.line("  # coverage:")
	w.line("  #   min: 80   # percent of lines; needs a coverage report above")
	w.line("")
}

const checksSection = `# Release gates, run in parallel with the build (the seed's security scan,
# licence compliance and dependency audit).
checks:
  audit:
    severity: high          # fail on high and critical advisories
  licenses:
    deny: [AGPL-3.0-only, AGPL-3.0-or-later, SSPL-1.0]
    unknown: review         # a package without a known licence needs an approval
  secrets:
    enabled: true           # committed keys and tokens fail the release
  sbom:
    format: cyclonedx       # stored with every release
  # exceptions:             # accepted findings must say why and when they end
  #   - id: GHSA-xxxx-xxxx-xxxx
  #     reason: not reachable from the browser bundle
  #     expires: 2026-12-31

`

// staticChecksSection is checksSection for a folder without package.json:
// the gates that read a lockfile are off, since there is none to read.
const staticChecksSection = `# Release gates, run in parallel with the build. A folder of static files has no
# package.json or lockfile: the dependency audit, the licence gate and the SBOM
# would have nothing to read (they fail closed), so they are off. Turn them on
# when the site gets a package.json.
checks:
  audit:
    enabled: false
  licenses:
    enabled: false
  secrets:
    enabled: true           # committed keys and tokens fail the release
  sbom:
    enabled: false

`

const environmentsSection = `# Deployment targets. Each deployment is verified by its health checks and rolled
# back at once when they fail. Production only takes releases that staging has run.
environments:
  staging:
    health_checks:
      - name: staging-home
        url: /
    # A load test after staging's health check, before production (docs/pipelines.md):
    # load_test: {paths: [/], rate: 20, duration: 30s, thresholds: {p95: 500ms, error_rate: 1%}}
  production:
    promote_from: staging
    # domains: [www.example.com]
    # ip_allow: [203.0.113.0/24]
    protection:
      lock: true            # the environment cannot be deleted
      approvals: 1          # a release waits for one approval, by someone other than its releaser
      approvers: [admin]    # roles or user names. A release passes staging first, and only
                            # those who may read staging see it (docs/pipelines.md), so e.g.:
                            #   phoenix user add dana --role admin --env production
                            #   phoenix user grant dana viewer --env staging
    health_checks:
      - name: production-home
        url: /
        conditions: ["[STATUS] == 200"]

`

const monitorSection = `# Monitoring after the release, as in the seed: a probe every 60 s with a 30 s
# timeout, and alert rules on errors and latency. The seed probes /health; use a
# path your site really serves (a single-page app's fallback answers every path).
monitor:
  endpoints:
    - name: production-health
      environment: production
      url: /
      interval: 60s
      timeout: 30s
      conditions:
        - "[STATUS] == 200"
        - "[RESPONSE_TIME] < 1000"
  alerts:
    - name: HighErrorRate
      metric: requests/failed
      threshold: 5
      window: PT5M
      severity: 0           # 0 critical ... 4 verbose
    - name: HighLatency
      metric: requests/duration
      threshold: 1000       # milliseconds
      window: PT5M
      severity: 1
  alert_config:
    critical:
      - {type: availability, threshold: 99.9, window: 5m}
      - {type: error_rate, threshold: 1%, window: 5m}
      - {type: response_time, threshold: 1000ms, window: 5m}

`

// notifySection is the seed's Teams channel, commented out: live, its
// secret missing, every release would warn and an alert fire from the
// first day for a team that has not set Teams up yet.
const notifySection = `# Where deployment results and alerts go (the seed announces to Teams). Store the
# Teams Workflows webhook URL as a secret, never the URL itself here, then
# uncomment the channel:
#   phoenix secret set PROD_TEAMS_WEBHOOK_URL
#notifications:
#  channels:
#    teams:
#      type: teams
#      format: workflows     # Teams Workflows webhook (Adaptive Card); messagecard for old connectors
#      url: secret:PROD_TEAMS_WEBHOOK_URL

`

const tailSection = `# Backup requirements; the server takes the backups (phoenix server --backup-repo, docs/backup.md).
backup:
  frequency: daily
  retention: 90d

# Headers added to every response (the seed's CDN SecurityHeaders rule).
edge:
  headers:
    - name: SecurityHeaders
      match: {scheme: https}
      set:
        Strict-Transport-Security: max-age=31536000
        X-Content-Type-Options: nosniff
`
