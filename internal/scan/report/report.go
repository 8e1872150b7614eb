// Package report holds the findings of the security gates (dependency
// audit, licences, secrets), writes them as a terminal table, JSON or SARIF
// 2.1.0, and decides by policy whether a release may pass.
package report

import (
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Kind of check that produced a report or finding.
type Kind string

// Kinds of findings.
const (
	Vulnerability Kind = "vulnerability"
	License       Kind = "license"
	Secret        Kind = "secret"
)

// Finding is one problem a gate may fail on. Fields not relevant to the
// kind are empty. Secret findings never carry the secret, only a redacted
// prefix.
type Finding struct {
	Kind      Kind     `json:"kind"`
	RuleID    string   `json:"rule_id"`           // advisory id, licence id, secret rule id
	Severity  string   `json:"severity"`          // critical, high, moderate, low, unknown
	Title     string   `json:"title"`             // one line
	Aliases   []string `json:"aliases,omitempty"` // e.g. CVE ids
	URL       string   `json:"url,omitempty"`     // advisory or rule documentation
	Score     float64  `json:"score,omitempty"`   // CVSS base score
	Verdict   string   `json:"verdict,omitempty"` // licences: allow, review, deny
	Withdrawn bool     `json:"withdrawn,omitempty"`

	Ecosystem string   `json:"ecosystem,omitempty"`
	Package   string   `json:"package,omitempty"`
	Version   string   `json:"version,omitempty"`
	License   string   `json:"license,omitempty"` // the package's declared licence expression
	Dev       bool     `json:"dev,omitempty"`
	DepPath   []string `json:"dependency_path,omitempty"`
	FixedIn   string   `json:"fixed_in,omitempty"`

	File        string `json:"file,omitempty"` // lockfile or source file, relative to the scanned folder when possible
	Line        int    `json:"line,omitempty"`
	Column      int    `json:"column,omitempty"`
	Redacted    string `json:"redacted,omitempty"` // secrets: a short prefix and a mask
	Fingerprint string `json:"fingerprint,omitempty"`

	Exception *Applied `json:"exception,omitempty"` // set by Gate when an exception covers it
}

// Problem is input that could not be checked (a malformed lockfile entry,
// an advisory that does not parse, an unreadable file). Gates fail closed
// on problems.
type Problem struct {
	File  string `json:"file"` // "" when Msg names the file (LoadProblems)
	Entry string `json:"entry,omitempty"`
	Line  int    `json:"line,omitempty"`
	Msg   string `json:"message"`
}

// Report is the result of one check over one folder.
type Report struct {
	Kind        Kind      `json:"kind"`
	Target      string    `json:"target"`
	GeneratedAt time.Time `json:"generated_at"`
	Tool        string    `json:"tool"`
	Version     string    `json:"tool_version,omitempty"`
	Sources     []string  `json:"sources,omitempty"` // lockfiles read, advisory db, ...
	// Notes say what was read when it is not the obvious: a workspace
	// root's lockfile read for one of its packages
	Notes    []string          `json:"notes,omitempty"`
	Scanned  int               `json:"scanned"` // packages or files looked at
	Findings []Finding         `json:"findings"`
	Problems []Problem         `json:"problems,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	Stats    map[string]int    `json:"stats,omitempty"`
	Extra    map[string]string `json:"extra,omitempty"`
}

// New returns an empty report.
func New(kind Kind, target string, now time.Time) *Report {
	return &Report{Kind: kind, Target: target, GeneratedAt: now.UTC(), Tool: "phoenix", Findings: []Finding{}}
}

// Rank orders severities: critical 4, high 3, moderate/medium 2, low 1,
// anything else 0.
func Rank(sev string) int {
	switch sev {
	case "critical":
		return 4
	case "high":
		return 3
	case "moderate", "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// Sort orders findings worst first, then by package, rule and place.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if ra, rb := Rank(a.Severity), Rank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.RuleID < b.RuleID
	})
}

// Counts returns the number of findings per severity.
func (r *Report) Counts() map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		m[f.Severity]++
	}
	return m
}

// Verdicts returns the number of licence findings per verdict (deny,
// review; allow when every package is listed).
func (r *Report) Verdicts() map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		if f.Verdict != "" {
			m[f.Verdict]++
		}
	}
	return m
}

// LoadProblems turns the error of reading dir's lockfiles (one error per
// file, joined) into problems. Each message names its file, from dir
// ("package-lock.json: not a valid npm lockfile: …", "site: no lockfile
// found"), so the problem names none besides: it named the folder, which
// the table printed twice ("site: site: no lockfile found") and SARIF gave
// as a file.
func LoadProblems(dir string, err error) []Problem {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, Problem{Msg: strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), "")})
	}
	return out
}
