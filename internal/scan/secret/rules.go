// Package secret finds leaked credentials in source trees and build
// output: RE2 rules, each with a keyword prefilter, an optional Shannon
// entropy floor and allowlists, plus .phoenixignore. Findings carry only a
// redacted prefix and a fingerprint of the secret, never the secret.
package secret

import (
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rule detects one kind of secret.
type Rule struct {
	ID           string   `yaml:"id"`
	Description  string   `yaml:"description"`
	Regex        string   `yaml:"regex"`        // RE2; group SecretGroup (default 1, or 0 without groups) is the secret
	SecretGroup  int      `yaml:"secretGroup"`  // which capture group holds the secret
	Keywords     []string `yaml:"keywords"`     // the rule runs only near one of these (case-insensitive)
	Entropy      float64  `yaml:"entropy"`      // minimum Shannon entropy (bits per character) of the secret
	Severity     string   `yaml:"severity"`     // critical, high (default), moderate, low
	Multiline    bool     `yaml:"multiline"`    // the secret may span lines (PEM keys)
	RequireDigit bool     `yaml:"requireDigit"` // the secret must contain a digit and a letter
	MinRun       int      `yaml:"minRun"`       // skip lines without this many consecutive token characters
	Generic      bool     `yaml:"generic"`      // a catch-all: any other rule matching the same secret wins
	Files        []string `yaml:"files"`        // globs of the file names (base names) the rule reads; none: every file
	re           *regexp.Regexp
}

// reads reports whether the rule applies to a file named name (its base
// name; "" when unknown, as for a buffer scanned alone: every rule).
func (r *Rule) reads(name string) bool {
	if len(r.Files) == 0 || name == "" {
		return true
	}
	for _, g := range r.Files {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// Allowlist drops matches that are known not to be secrets.
type Allowlist struct {
	Regexes   []string `yaml:"regexes"`   // secrets matching any of these are ignored
	StopWords []string `yaml:"stopwords"` // secrets holding one of these as whole words (any case; hasStopWord) are ignored
	Paths     []string `yaml:"paths"`     // .phoenixignore-style patterns of files not scanned
	res       []*regexp.Regexp
}

// Ruleset is a parsed rules file.
type Ruleset struct {
	Rules     []Rule    `yaml:"rules"`
	Allowlist Allowlist `yaml:"allowlist"`
}

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules returns the built-in rules (a fresh copy).
func DefaultRules() *Ruleset {
	rs, err := ParseRules("rules.yaml (built in)", defaultRules)
	if err != nil {
		panic(err) // the embedded file is tested; this cannot happen at run time
	}
	return rs
}

// ParseRules reads a YAML rules file. Errors name the file and the rule.
func ParseRules(name string, data []byte) (*Ruleset, error) {
	var rs Ruleset
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seen := map[string]bool{}
	for i := range rs.Rules {
		if err := rs.Rules[i].compile(); err != nil {
			return nil, fmt.Errorf("%s: rules[%d] (%s): %w", name, i, rs.Rules[i].ID, err)
		}
		if seen[rs.Rules[i].ID] {
			return nil, fmt.Errorf("%s: rules[%d]: duplicate id %q", name, i, rs.Rules[i].ID)
		}
		seen[rs.Rules[i].ID] = true
	}
	for i, s := range rs.Allowlist.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("%s: allowlist.regexes[%d]: %w", name, i, err)
		}
		rs.Allowlist.res = append(rs.Allowlist.res, re)
	}
	for i := range rs.Allowlist.StopWords {
		rs.Allowlist.StopWords[i] = strings.ToLower(rs.Allowlist.StopWords[i])
	}
	return &rs, nil
}

func (r *Rule) compile() error {
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	if r.Regex == "" {
		return fmt.Errorf("regex is required")
	}
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return fmt.Errorf("regex: %w", err)
	}
	if r.SecretGroup == 0 && re.NumSubexp() > 0 {
		r.SecretGroup = 1
	}
	if r.SecretGroup < 0 || r.SecretGroup > re.NumSubexp() {
		return fmt.Errorf("secretGroup %d but the regex has %d groups", r.SecretGroup, re.NumSubexp())
	}
	if len(r.Keywords) == 0 {
		return fmt.Errorf("keywords are required (they keep the scan fast)")
	}
	for i, k := range r.Keywords {
		if k = strings.ToLower(k); k == "" {
			return fmt.Errorf("keywords[%d] is empty", i)
		} else {
			r.Keywords[i] = k
		}
	}
	for i, g := range r.Files {
		if _, err := path.Match(g, ""); err != nil || strings.Contains(g, "/") {
			return fmt.Errorf("files[%d] %q: write a glob of file names, such as *.yaml", i, g)
		}
	}
	if r.Severity == "" {
		r.Severity = "high"
	}
	r.re = re
	return nil
}

// Merge appends other's rules (replacing same-id ones) and allowlist.
func (rs *Ruleset) Merge(other *Ruleset) {
	for _, r := range other.Rules {
		replaced := false
		for i := range rs.Rules {
			if rs.Rules[i].ID == r.ID {
				rs.Rules[i], replaced = r, true
			}
		}
		if !replaced {
			rs.Rules = append(rs.Rules, r)
		}
	}
	a, b := &rs.Allowlist, other.Allowlist
	a.Regexes = append(a.Regexes, b.Regexes...)
	a.res = append(a.res, b.res...)
	a.StopWords = append(a.StopWords, b.StopWords...)
	a.Paths = append(a.Paths, b.Paths...)
}
