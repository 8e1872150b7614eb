package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchema compiles the SARIF 2.1.0 schema Microsoft ships with its
// SARIF Multitool (testdata/PROVENANCE.md).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-schema-2.1.0.json"
	c := testkit.SchemaCompiler(t, "testdata/sarif-2.1.0.json", id)
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	s := sarifSchema(t)
	reports := map[string]*Report{"vulnerabilities": sample(), "empty": New(Secret, "site", now)}
	lic := New(License, "site", now)
	lic.Findings = []Finding{{Kind: License, RuleID: "GPL-3.0-or-later", Severity: "moderate", Verdict: "review", Package: "chessground",
		Version: "9.2.1", License: "GPL-3.0-or-later", File: "package-lock.json", Line: 40}}
	reports["licences"] = lic
	sec := New(Secret, "site", now)
	sec.Findings = []Finding{{Kind: Secret, RuleID: "slack-webhook", Severity: "high", File: "src/a.js", Line: 3, Column: 14,
		Redacted: "https://hooks.slack.com/services/T0…", Fingerprint: "abc123"}}
	reports["secrets"] = sec
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			Gate(Policy{Exceptions: []Exception{{ID: "GHSA-29mw-wpgm-hmr9", Reason: "not reachable", Expires: now.AddDate(0, 1, 0)}}}, r, now)
			var b bytes.Buffer
			if err := WriteSARIF(&b, r); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(inst); err != nil {
				t.Fatalf("SARIF output does not validate: %v\n%s", err, b.String())
			}
		})
	}
}

func TestSARIFSchemaRejectsABrokenLog(t *testing.T) {
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"version":"2.1.0","runs":[{"results":[]}]}`)))
	if err := sarifSchema(t).Validate(inst); err == nil {
		t.Fatal("a run without its tool validated: the schema check cannot fail")
	}
}

// TestSARIFLocationsFromTheWorkingDirectory: code scanning reads a relative
// URI from the repository root, where phoenix runs, so a finding of
// 'phoenix check apps/web' must name apps/web/src/a.js; it named src/a.js.
func TestSARIFLocationsFromTheWorkingDirectory(t *testing.T) {
	abs := t.TempDir()
	for target, want := range map[string]string{
		".":         "src/a%20b.js",
		"apps/web":  "apps/web/src/a%20b.js",
		"./apps/ui": "apps/ui/src/a%20b.js",
		abs:         "file://" + filepath.ToSlash(abs) + "/src/a%20b.js",
	} {
		r := New(Secret, target, now)
		r.Findings = []Finding{{Kind: Secret, RuleID: "aws-access-key-id", Severity: "critical", File: "src/a b.js", Line: 3, Column: 1,
			Redacted: "AKIA…(20 chars)", Fingerprint: "aws-access-key-id:1"}}
		var b bytes.Buffer
		if err := WriteSARIF(&b, r); err != nil {
			t.Fatal(err)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
						}
					}
				}
			}
		}
		if err := json.Unmarshal(b.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		if got := log.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != want {
			t.Errorf("target %s: uri %q, want %q", target, got, want)
		}
	}
}
