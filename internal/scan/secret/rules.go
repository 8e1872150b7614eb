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
	MinRun       int      `yaml:"minRun"`       // skip lines without this many consecutive characters other than spaces and quotes
	Quoted       bool     `yaml:"quoted"`       // skip lines without an assignment (':', '=', '=>') of a quoted value of minLength bytes or more
	Needs        []string `yaml:"needs"`        // skip lines without each of these strings (a cheap condition of the regex: url-password's '@')
	// Reach is how far a match can lie either side of its keyword: a line
	// longer than 8 times that (a minified bundle) is read that far
	// around each keyword, not whole. 0: the whole line.
	Reach    int      `yaml:"reach"`
	Generic  bool     `yaml:"generic"`  // a catch-all: any other rule matching the same secret wins
	Files    []string `yaml:"files"`    // globs of the file names (base names) the rule reads; none: every file
	NotFiles []string `yaml:"notFiles"` // globs of the file names the rule does not read (tests: *_test.go)
	// A regex with a group named "name" (the name the value is assigned
	// to: DB_PASSWORD, apiKey, "password") has its matches checked by name
	// (nameOK): the name must hold a word ending in one of NameWords, and
	// it names a reference, not a secret, when one of its words after that
	// is in NameRefs (secretName, PASSWORD_FILE, tokenUrl) or one before
	// it in NameRefsBefore (existingSecret, publicKey). Several groups
	// named "secret" may hold the secret (one per quote): the first that
	// matched does; so for several groups named "name".
	NameWords      []string `yaml:"nameWords"`
	NameRefs       []string `yaml:"nameRefs"`
	NameRefsBefore []string `yaml:"nameRefsBefore"`
	NotValues      []string `yaml:"notValues"` // regexes: a value matching one is a reference or template (${{ secrets.X }}, {{ .Values.x }}, $(X)), not a secret
	Mixed          bool     `yaml:"mixed"`     // the secret must hold a letter and a digit or a symbol (not only at its end: "Password:" is a label)
	MaxSpaces      int      `yaml:"maxSpaces"` // the secret may hold this many spaces at most (a sentence is no password)
	MinLength      int      `yaml:"minLength"` // the secret's shortest length in bytes (checked here: a counted repeat in the regex makes it slow)
	MaxLength      int      `yaml:"maxLength"` // and its longest, 0: any
	SkipNames      bool     `yaml:"skipNames"` // a value shaped like a name (lowercase words joined by - . _, db-password-v2) names a key or secret
	re             *regexp.Regexp
	secretGroups   []int
	nameGroups     []int
	notValues      []*regexp.Regexp
}

// reads reports whether the rule applies to a file named name (its base
// name; "" when unknown, as for a buffer scanned alone: every rule).
func (r *Rule) reads(name string) bool {
	if name == "" {
		return true
	}
	for _, g := range r.NotFiles {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	if len(r.Files) == 0 {
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
	r.secretGroups, r.nameGroups = nil, nil
	for i, n := range re.SubexpNames() {
		if n == "secret" && r.SecretGroup == 0 {
			r.secretGroups = append(r.secretGroups, i)
		}
		if n == "name" {
			r.nameGroups = append(r.nameGroups, i)
		}
	}
	if r.SecretGroup == 0 && re.NumSubexp() > 0 && r.secretGroups == nil {
		r.SecretGroup = 1
	}
	if r.SecretGroup < 0 || r.SecretGroup > re.NumSubexp() {
		return fmt.Errorf("secretGroup %d but the regex has %d groups", r.SecretGroup, re.NumSubexp())
	}
	if r.secretGroups == nil {
		r.secretGroups = []int{r.SecretGroup}
	}
	if r.nameGroups == nil && (len(r.NameWords) > 0 || len(r.NameRefs) > 0 || len(r.NameRefsBefore) > 0) {
		return fmt.Errorf("nameWords and nameRefs need a group named name in the regex")
	}
	for _, l := range [][]string{r.NameWords, r.NameRefs, r.NameRefsBefore} {
		for i := range l {
			l[i] = strings.ToLower(l[i])
		}
	}
	r.notValues = nil
	for i, v := range r.NotValues {
		nre, err := regexp.Compile(v)
		if err != nil {
			return fmt.Errorf("notValues[%d]: %w", i, err)
		}
		r.notValues = append(r.notValues, nre)
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
	for i, g := range append(append([]string{}, r.Files...), r.NotFiles...) {
		if _, err := path.Match(g, ""); err != nil || strings.Contains(g, "/") {
			key := "files"
			if i >= len(r.Files) {
				key, i = "notFiles", i-len(r.Files)
			}
			return fmt.Errorf("%s[%d] %q: write a glob of file names, such as *.yaml", key, i, g)
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
