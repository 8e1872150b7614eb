package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"strings"
)

// SARIF 2.1.0 (OASIS) types, only the parts written here.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	ShortDescription sarifText      `json:"shortDescription"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// SARIFSchema is the schema URI written into SARIF logs.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// WriteSARIF writes the report as a SARIF 2.1.0 log with one run, so code
// scanning tools (GitHub, Azure DevOps) show the findings. Findings covered
// by an exception carry an external suppression with its reason.
func WriteSARIF(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "phoenix", InformationURI: "https://github.com/phoenixvc/phoenix", Version: r.Version, Rules: []sarifRule{}}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: len(r.Problems) == 0}},
		Results:     []sarifResult{},
	}
	for _, p := range r.Problems {
		n := sarifNotification{Level: "error", Message: sarifText{p.String()}}
		if loc := location(r.Target, p.File, p.Line, 0); loc != nil {
			n.Locations = []sarifLocation{*loc}
		}
		run.Invocations[0].Notifications = append(run.Invocations[0].Notifications, n)
	}
	for _, s := range r.Warnings {
		run.Invocations[0].Notifications = append(run.Invocations[0].Notifications, sarifNotification{Level: "warning", Message: sarifText{s}})
	}
	index := map[string]int{}
	for _, f := range r.Findings {
		if _, ok := index[f.RuleID]; !ok {
			index[f.RuleID] = len(run.Tool.Driver.Rules)
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule(f))
		}
		run.Results = append(run.Results, result(r.Target, f, index[f.RuleID]))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

func rule(f Finding) sarifRule {
	props := map[string]any{"tags": []string{"security", string(f.Kind)}}
	if score := securitySeverity(f); score != "" {
		props["security-severity"] = score
	}
	title := f.Title
	if title == "" {
		title = f.RuleID
	}
	return sarifRule{ID: f.RuleID, ShortDescription: sarifText{title}, HelpURI: f.URL, Properties: props}
}

// securitySeverity is the score GitHub code scanning sorts by.
func securitySeverity(f Finding) string {
	if f.Score > 0 {
		return fmt.Sprintf("%.1f", f.Score)
	}
	return map[string]string{"critical": "9.5", "high": "8.0", "moderate": "5.5", "low": "2.0"}[f.Severity]
}

func result(target string, f Finding, idx int) sarifResult {
	res := sarifResult{RuleID: f.RuleID, RuleIndex: idx, Level: level(f), Message: sarifText{message(f)},
		Locations: []sarifLocation{}}
	if loc := location(target, f.File, f.Line, f.Column); loc != nil {
		res.Locations = append(res.Locations, *loc)
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{"phoenix/v1": f.Fingerprint}
	}
	if f.Exception != nil {
		res.Suppressions = []sarifSuppression{{Kind: "external", Justification: f.Exception.Reason + " (expires " + f.Exception.Expires.Format("2006-01-02") + ")"}}
	}
	props := map[string]any{}
	for k, v := range map[string]string{"package": f.Package, "version": f.Version, "fixedIn": f.FixedIn, "license": f.License, "verdict": f.Verdict} {
		if v != "" {
			props[k] = v
		}
	}
	if len(f.DepPath) > 0 {
		props["dependencyPath"] = f.DepPath
		props["scope"] = scope(f)
	}
	if len(props) > 0 {
		res.Properties = props
	}
	return res
}

func level(f Finding) string {
	switch {
	case f.Kind == Secret, f.Verdict == "deny", Rank(f.Severity) >= 3:
		return "error"
	case f.Verdict == "review", Rank(f.Severity) == 2, f.Severity == "unknown":
		return "warning"
	}
	return "note"
}

func message(f Finding) string {
	switch f.Kind {
	case Vulnerability:
		s := fmt.Sprintf("%s@%s is affected by %s (%s): %s.", f.Package, f.Version, f.RuleID, f.Severity, f.Title)
		if f.FixedIn != "" {
			s += " Fixed in " + f.FixedIn + "."
		}
		if len(f.DepPath) > 1 {
			s += " Pulled in by " + strings.Join(f.DepPath, " > ") + "."
		}
		return s
	case License:
		return fmt.Sprintf("%s@%s is licensed %s: %s by policy.", f.Package, f.Version, dash(f.License), f.Verdict)
	}
	return fmt.Sprintf("%s: possible secret %s.", f.Title, f.Redacted)
}

// location is file (relative to the scanned folder, target) at line and
// column.
func location(target, file string, line, col int) *sarifLocation {
	if file == "" {
		return nil
	}
	loc := &sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifact{URI: artifactURI(target, file)}}}
	if line > 0 {
		loc.Physical.Region = &sarifRegion{StartLine: line, StartColumn: max(col, 0)}
	}
	return loc
}

// artifactURI names file, relative to the scanned folder target, as code
// scanning resolves it: GitHub reads a relative URI from the repository
// root, where CI runs phoenix, so 'phoenix check apps/web' writes
// apps/web/src/config.js, not src/config.js (another file, or none); a
// folder given as an absolute path, or outside the working directory,
// gives a file: URI, which GitHub makes relative to the checkout.
func artifactURI(target, file string) string {
	p := filepath.Join(target, file)
	if !filepath.IsLocal(p) {
		if abs, err := filepath.Abs(p); err == nil {
			return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
		}
	}
	return (&url.URL{Path: filepath.ToSlash(p)}).String()
}
