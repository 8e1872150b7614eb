// Package osv reads advisories in the OSV format (https://ossf.github.io/osv-schema/),
// keeps them in a local on-disk index for offline audits, and decides
// whether a package version is affected.
//
// The index lives in a folder the caller chooses (e.g. <data>/advisories).
// Import builds it from an OSV zip as osv.dev publishes per ecosystem
// (all.zip), a folder of OSV JSON files or one file; Open reads only its key
// table, and Lookup reads the records of one package on demand, so a warm
// audit touches only the packages it asks about.
package osv

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Entry is one OSV advisory as published (the fields Phoenix uses).
type Entry struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         time.Time      `json:"modified"`
	Published        time.Time      `json:"published"`
	Withdrawn        *time.Time     `json:"withdrawn,omitempty"`
	Aliases          []string       `json:"aliases"`
	Summary          string         `json:"summary"`
	Details          string         `json:"details"`
	Severity         []SeverityItem `json:"severity"`
	Affected         []Affected     `json:"affected"`
	References       []Reference    `json:"references"`
	DatabaseSpecific map[string]any `json:"database_specific"`
}

// SeverityItem is a CVSS vector ("CVSS_V3", "CVSS_V4", ...).
type SeverityItem struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected names one package and the versions of it that are affected.
type Affected struct {
	Package          PackageRef     `json:"package"`
	Ranges           []Range        `json:"ranges"`
	Versions         []string       `json:"versions"`
	Severity         []SeverityItem `json:"severity"`
	DatabaseSpecific map[string]any `json:"database_specific"`
}

// PackageRef identifies a package in an ecosystem.
type PackageRef struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range is a list of events in one versioning scheme.
type Range struct {
	Type   string  `json:"type"` // SEMVER, ECOSYSTEM or GIT
	Events []Event `json:"events"`
}

// Event is one boundary of a range: exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link about the advisory.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ParseEntry decodes and checks one OSV JSON document. name is used in
// errors (a file path or a path inside a zip).
func ParseEntry(name string, data []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: not valid OSV JSON: %w", name, err)
	}
	if e.ID == "" {
		return nil, fmt.Errorf("%s: advisory has no \"id\"", name)
	}
	for i, a := range e.Affected {
		if a.Package.Name == "" || a.Package.Ecosystem == "" {
			return nil, fmt.Errorf("%s: advisory %s: affected[%d] has no package name or ecosystem", name, e.ID, i)
		}
		for j, r := range a.Ranges {
			if err := checkRange(r); err != nil {
				return nil, fmt.Errorf("%s: advisory %s: affected[%d].ranges[%d]: %w", name, e.ID, i, j, err)
			}
		}
	}
	return &e, nil
}

func checkRange(r Range) error {
	switch r.Type {
	case "SEMVER", "ECOSYSTEM", "GIT":
	default:
		return fmt.Errorf("unknown range type %q (want SEMVER, ECOSYSTEM or GIT)", r.Type)
	}
	if len(r.Events) == 0 {
		return fmt.Errorf("no events")
	}
	for k, ev := range r.Events {
		n := 0
		for _, s := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("events[%d] must set exactly one of introduced, fixed, last_affected, limit", k)
		}
	}
	return nil
}

// Ecosystem is the base ecosystem name: "Debian:12" -> "Debian".
func Ecosystem(e string) string {
	if i := strings.IndexByte(e, ':'); i > 0 {
		return e[:i]
	}
	return e
}

// Key is the index key of a package.
func Key(ecosystem, name string) string { return Ecosystem(ecosystem) + "\x00" + name }

// Record is what the index keeps for one (advisory, affected package) pair.
type Record struct {
	ID        string     `json:"id"`
	Aliases   []string   `json:"aliases,omitempty"`
	Summary   string     `json:"summary,omitempty"`
	Severity  Severity   `json:"severity"`
	Published time.Time  `json:"published,omitzero"`
	Modified  time.Time  `json:"modified,omitzero"`
	Withdrawn *time.Time `json:"withdrawn,omitempty"`
	URL       string     `json:"url,omitempty"`
	Ecosystem string     `json:"ecosystem"`
	Name      string     `json:"name"`
	Ranges    []Range    `json:"ranges,omitempty"`
	Versions  []string   `json:"versions,omitempty"`
}

// Records flattens an entry into one record per affected package.
func (e *Entry) Records() []Record {
	sev := e.severity()
	url := ""
	for _, r := range e.References {
		if r.Type == "ADVISORY" || url == "" {
			url = r.URL
		}
	}
	if strings.HasPrefix(e.ID, "GHSA-") {
		url = "https://github.com/advisories/" + e.ID
	}
	out := make([]Record, 0, len(e.Affected))
	for _, a := range e.Affected {
		s := sev
		if len(a.Severity) > 0 {
			s = severityOf(a.Severity, a.DatabaseSpecific)
		}
		out = append(out, Record{ID: e.ID, Aliases: e.Aliases, Summary: e.Summary, Severity: s,
			Published: e.Published, Modified: e.Modified, Withdrawn: e.Withdrawn, URL: url,
			Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Ranges: a.Ranges, Versions: a.Versions})
	}
	return out
}
