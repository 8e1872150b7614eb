// Package config is the phoenix.yaml model: Go types for every section,
// defaults, a strict decoder (unknown keys, duplicate keys and type errors are
// problems with file:line:col and the field path), per-section validation
// that collects every problem at once, and a JSON Schema generated from the
// same types (docs/phoenix.schema.json).
//
// Load and Parse return a *Config only when it has no errors; the error they
// return otherwise is a Problems list. Warnings (a literal webhook URL that
// looks secret, an expired exception) do not stop loading; they are kept in
// Config.Warnings.
package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// Config is a whole phoenix.yaml.
type Config struct {
	Version       int                     `yaml:"version" doc:"Format version of this file; 1." min:"1" max:"1"`
	Project       Project                 `yaml:"project" doc:"The project this file describes." required:"true"`
	Release       Release                 `yaml:"release" doc:"How releases are tagged, approved and promoted."`
	Build         Build                   `yaml:"build" doc:"How the site is installed and built."`
	Tests         Tests                   `yaml:"tests" doc:"Test commands, run once the dependencies are installed, in parallel with the build, and their reports."`
	Checks        Checks                  `yaml:"checks" doc:"Release gates: dependency audit, licences, secrets, SBOM."`
	Environments  map[string]*Environment `yaml:"environments" keys:"slug" doc:"Deployment targets by name (a DNS label), e.g. staging and production."`
	Monitor       Monitor                 `yaml:"monitor" doc:"Health probes and alert rules."`
	Notifications Notifications           `yaml:"notifications" doc:"Where alerts and events are sent."`
	Workflows     map[string]*Workflow    `yaml:"workflows" keys:"name" doc:"Automations started by a schedule, a webhook or an event."`
	Pipeline      Pipeline                `yaml:"pipeline" doc:"Custom release pipeline stages; the built-in pipeline is used when empty."`
	Backup        Backup                  `yaml:"backup" doc:"Backups of releases, state and vault."`
	Vault         Vault                   `yaml:"vault" doc:"The secret store."`
	Edge          Edge                    `yaml:"edge" doc:"Serving rules shared by all environments: headers, rate limits, WAF."`

	// Warnings lists problems that did not stop loading.
	Warnings Problems `yaml:"-"`

	file string         // file name for problems
	pos  map[string]Pos // field path -> position of its key
	src  []byte         // the file Parse read
}

// Source is the file Parse read this Config from; nil for one made
// otherwise. What was checked of a file is what is kept of it: the file
// on disk may have changed since.
func (c *Config) Source() []byte { return c.src }

func (c *Config) setDefaults() {
	c.Version = 1
	c.Release.setDefaults()
	c.Build.setDefaults()
	c.Checks.setDefaults()
	c.Backup.setDefaults()
	c.Vault.setDefaults()
}

// Default returns a Config with every default applied and no project name.
func Default() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

// EnvironmentNames returns the environment names in sorted order.
func (c *Config) EnvironmentNames() []string { return sortedKeys(c.Environments) }

// ReleaseEnvironments returns the environments a release goes through, in
// order: release.environments when set, otherwise staging then production
// (those that are defined) followed by the others in name order.
func (c *Config) ReleaseEnvironments() []string {
	if len(c.Release.Environments) > 0 {
		return slices.Clone(c.Release.Environments)
	}
	var out []string
	for _, name := range []string{"staging", "production"} {
		if _, ok := c.Environments[name]; ok {
			out = append(out, name)
		}
	}
	for _, name := range c.EnvironmentNames() {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// Position returns where a field path (as printed in problems) is defined in
// the file, and whether it was found.
func (c *Config) Position(path string) (Pos, bool) {
	p, ok := c.pos[path]
	return p, ok
}

// Where is "FILE:LINE:COL" of field path in the file c was read from, for
// messages that point at a setting; "" when the path is not in the file
// (a default) or c was not read from one.
func (c *Config) Where(path string) string {
	p, ok := c.pos[path]
	if !ok || c.file == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", c.file, p.Line, p.Col)
}

func (c *Config) validateSections(v *validator) {
	c.Project.validate(v)
	c.Release.validate(v)
	c.Build.validate(v)
	c.Tests.validate(v)
	c.Checks.validate(v)
	c.validateEnvironments(v)
	c.Monitor.validate(v)
	c.Notifications.validate(v)
	c.validateWorkflows(v)
	c.Pipeline.validate(v)
	c.Backup.validate(v)
	c.Vault.validate(v)
	c.Edge.validate(v)
}

// Project names the project.
type Project struct {
	Name        string `yaml:"name" pattern:"slug" required:"true" doc:"Project slug, a DNS label: lowercase letters, digits and '-'."`
	Description string `yaml:"description" doc:"One line about the project."`
}

func (p *Project) validate(v *validator) {
	if p.Name == "" {
		v.errorf("project.name", "add project: {name: my-site}", "is required")
	}
}

// Release describes release tags and promotion.
type Release struct {
	TagPrefix    string   `yaml:"tag_prefix" doc:"Prefix of release tags before the semantic version, e.g. v for v1.2.3."`
	Changelog    string   `yaml:"changelog" doc:"Changelog file that must mention the version; empty to skip the check."`
	Sign         bool     `yaml:"sign" doc:"Sign release artifacts (default true)."`
	Environments []string `yaml:"environments" pattern:"slug" doc:"Environments a release goes through, in order; default: staging then production when defined."`
}

func (r *Release) setDefaults() { r.TagPrefix, r.Sign = "v", true }

func (r *Release) validate(v *validator) {
	v.relPath("release.changelog", r.Changelog)
	for i, e := range r.Environments {
		v.envRef(indexPath("release.environments", i), e)
	}
	seen := map[string]bool{}
	for i, e := range r.Environments {
		if seen[e] {
			v.errorf(indexPath("release.environments", i), "list each environment once", "%q is listed twice", e)
		}
		seen[e] = true
	}
}

// Build says how the site is installed and built.
type Build struct {
	PackageManager string      `yaml:"package_manager" enum:"auto,npm,pnpm,yarn" doc:"Package manager; auto detects it from the lockfile."`
	App            string      `yaml:"app" doc:"App directory inside a monorepo, relative to the project root, e.g. apps/web."`
	Node           NodeVersion `yaml:"node" doc:"Node.js version: a semver constraint (20, >=20.19, ^22) or lts, lts/iron."`
	Install        string      `yaml:"install" doc:"Install command; default from the package manager, e.g. npm ci."`
	Command        string      `yaml:"command" doc:"Build command; default: the build script, e.g. npm run build."`
	Output         string      `yaml:"output" doc:"Build output directory relative to the app directory, e.g. dist."`
	Env            EnvMap      `yaml:"env" doc:"Environment variables for install and build."`
	Sourcemaps     string      `yaml:"sourcemaps" enum:"include,exclude" doc:"Whether .map files ship in the artifact (default exclude)."`
	Compress       []string    `yaml:"compress" enum:"gzip,br,zstd" doc:"Precompressed encodings stored in the artifact (default gzip, br)."`
	Timeout        Duration    `yaml:"timeout" doc:"Build time limit (default 30m)."`
}

func (b *Build) setDefaults() {
	b.PackageManager, b.Sourcemaps = "auto", "exclude"
	b.Compress = []string{"gzip", "br"}
	b.Timeout = Duration(30 * time.Minute)
}

func (b *Build) validate(v *validator) {
	v.relPath("build.app", b.App)
	v.relPath("build.output", b.Output)
	b.Node.validate(v, "build.node")
	if b.Timeout < 0 {
		v.errorf("build.timeout", "", "must not be negative")
	}
}

// NodeVersion is a Node.js version constraint; numbers are accepted ("20").
type NodeVersion string

func (nv *NodeVersion) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || !slices.Contains([]string{"!!str", "!!int", "!!float"}, n.ShortTag()) {
		d.typeErr(n, path, "a version", `write e.g. "20", ">=20.19" or "lts"`)
		return
	}
	*nv = NodeVersion(n.Value)
}

func (NodeVersion) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": []any{"string", "number"}}
}

// IsLTS reports whether the version names an LTS line rather than a range.
func (nv NodeVersion) IsLTS() bool {
	s := strings.ToLower(string(nv))
	return s == "lts" || strings.HasPrefix(s, "lts/")
}

// Constraint returns the semver constraint, or nil for "" and LTS names.
func (nv NodeVersion) Constraint() (*semver.Constraints, error) {
	if nv == "" || nv.IsLTS() {
		return nil, nil
	}
	return semver.NewConstraint(strings.TrimPrefix(strings.TrimSpace(string(nv)), "v"))
}

func (nv NodeVersion) validate(v *validator, p string) {
	if _, err := nv.Constraint(); err != nil {
		v.errorf(p, `write e.g. "20", ">=20.19 <23", "^22" or "lts"`, "%q is not a valid version constraint", clip(string(nv)))
	}
}
