package report

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSecurityShowsDisabledGates releases projects whose phoenix.yaml
// turns gates off, through pipelines of their own, and reads the security
// section: a disabled gate shows as "disabled (checks.NAME.enabled:
// false)", with the setting's place in a line under the table and in the
// JSON, apart from a gate the pipeline merely has no step for ("not run").
// It is what the run's plan recorded at release: a phoenix.yaml changed
// since does not change it.
func TestSecurityShowsDisabledGates(t *testing.T) {
	const (
		head    = "project: {name: site}\nenvironments: {staging: {}}\n"
		stages  = "pipeline:\n  stages:\n    - name: main\n      steps:\n"
		licence = "        - {name: licenses, uses: check/licenses}\n"
		secrets = "        - {name: secrets, uses: check/secrets}\n"
		runStep = "        - {name: build, run: \"true\"}\n"
	)
	tests := []struct {
		name, yaml string
		after      string   // phoenix.yaml once released; "" to keep it
		cells      []string // VULNERABILITIES, LICENCES, SECRETS, SBOM
		lines      []string // under the table
		disabled   []string // check@at in the JSON
	}{
		{"secrets and sbom off, no audit step", "checks:\n  secrets: {enabled: false}\n  sbom:\n    enabled: false\n" + stages + licence, "",
			[]string{"not run", "clean (succeeded)", "disabled (checks.secrets.enabled: false)", "disabled (checks.sbom.enabled: false)"},
			[]string{"site v1.0.0: the secrets gate was disabled at release: checks.secrets.enabled: false (phoenix.yaml:4:13)",
				"site v1.0.0: the sbom gate was disabled at release: checks.sbom.enabled: false (phoenix.yaml:6:5)"},
			[]string{"secrets@phoenix.yaml:4:13", "sbom@phoenix.yaml:6:5"}},
		{"phoenix.yaml changed since", "checks: {secrets: {enabled: false}}\n" + stages + licence, head + stages + licence,
			[]string{"not run", "clean (succeeded)", "disabled (checks.secrets.enabled: false)", "no"},
			[]string{"site v1.0.0: the secrets gate was disabled at release: checks.secrets.enabled: false (phoenix.yaml:3:20)"},
			[]string{"secrets@phoenix.yaml:3:20"}},
		{"all off", "checks:\n  audit: {enabled: false}\n  licenses: {enabled: false}\n  secrets: {enabled: false}\n  sbom: {enabled: false}\n" +
			stages + runStep, "",
			[]string{"disabled (checks.audit.enabled: false)", "disabled (checks.licenses.enabled: false)",
				"disabled (checks.secrets.enabled: false)", "disabled (checks.sbom.enabled: false)"},
			[]string{"site v1.0.0: the release ran no security gate: phoenix.yaml disabled audit, licenses, secrets, sbom",
				"site v1.0.0: the audit gate was disabled at release: checks.audit.enabled: false (phoenix.yaml:4:11)",
				"site v1.0.0: the licenses gate was disabled at release: checks.licenses.enabled: false (phoenix.yaml:5:14)",
				"site v1.0.0: the secrets gate was disabled at release: checks.secrets.enabled: false (phoenix.yaml:6:13)",
				"site v1.0.0: the sbom gate was disabled at release: checks.sbom.enabled: false (phoenix.yaml:7:10)"},
			[]string{"audit@phoenix.yaml:4:11", "licenses@phoenix.yaml:5:14", "secrets@phoenix.yaml:6:13", "sbom@phoenix.yaml:7:10"}},
		{"secrets off, a step runs it anyway", "checks: {secrets: {enabled: false}}\n" + stages + secrets, "",
			[]string{"not run", "not run", "clean (succeeded)", "no"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, t0)
			dir := filepath.Join(f.dir, "site")
			f.write(dir, map[string]string{"phoenix.yaml": head + tt.yaml,
				"package.json": `{"name":"site","version":"1.0.0","dependencies":{"a":"1.0.0"}}`,
				"package-lock.json": `{"name":"site","lockfileVersion":3,"packages":{"":{"name":"site","dependencies":{"a":"1.0.0"}},` +
					`"node_modules/a":{"version":"1.0.0","license":"MIT"}}}`})
			if run := f.releaseDir(dir, "v1.0.0"); run.Status != "succeeded" {
				t.Fatalf("release %s: %s", run.Status, run.Message)
			}
			if tt.after != "" {
				f.write(dir, map[string]string{"phoenix.yaml": tt.after})
			}
			r := build(t, f, Options{Sections: []string{SecSecurity}})
			var b Block
			for _, x := range Blocks(r) {
				if x.Title == "Security" {
					b = x
				}
			}
			if len(b.Rows) != 1 {
				t.Fatalf("security block %+v", b)
			}
			if got := b.Rows[0][4:8]; !slices.Equal(got, tt.cells) {
				t.Errorf("cells %q, want %q", got, tt.cells)
			}
			if !slices.Equal(b.Lines, tt.lines) {
				t.Errorf("lines:\n%s\nwant\n%s", strings.Join(b.Lines, "\n"), strings.Join(tt.lines, "\n"))
			}
			var out struct {
				Releases []struct {
					Disabled []struct{ Check, Setting, At string } `json:"disabled"`
				} `json:"releases"`
			}
			js, _ := json.Marshal(r.Security)
			if err := json.Unmarshal(js, &out); err != nil || len(out.Releases) != 1 {
				t.Fatalf("%v: %s", err, js)
			}
			var got []string
			for _, d := range out.Releases[0].Disabled {
				if d.Setting != "checks."+d.Check+".enabled: false" {
					t.Errorf("setting %q of %s", d.Setting, d.Check)
				}
				got = append(got, d.Check+"@"+d.At)
			}
			if !slices.Equal(got, tt.disabled) {
				t.Errorf("JSON disabled %q, want %q\n%s", got, tt.disabled, js)
			}
		})
	}
}

// TestSecurityOfTheLiveReleaseIsOfTheRunThatDeployedIt: production serves
// v1.0.0 from the run that released it, its gates passed; a second
// release of v1.0.0, refused at validate-tag, is the newest run of the
// version. The live release's row is the run that deployed it, with its
// gates, not the refused one's "skipped, no result recorded", and the
// refused run is a row of its own, the newest release. (validate-tag
// comes after a step here: one that comes first refuses the version
// before a run is queued.)
func TestSecurityOfTheLiveReleaseIsOfTheRunThatDeployedIt(t *testing.T) {
	f, dir, first := releasedSite(t, "project: {name: site}\nenvironments: {production: {}}\n"+
		"pipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: prep, run: \"true\"}\n"+
		"        - {name: version, uses: validate-tag, needs: [prep]}\n"+
		"        - {name: secrets, uses: check/secrets, needs: [version]}\n")
	if first.Status != "succeeded" {
		t.Fatalf("release %s: %s", first.Status, first.Message)
	}
	f.deployByRun("site", "production", "v1.0.0", strconv.FormatInt(first.ID, 10))
	again := f.releaseDir(dir, "v1.0.0")
	if again.Status != "failed" {
		t.Fatalf("v1.0.0 released again: %s, want failed at validate-tag", again.Status)
	}
	r := build(t, f, Options{Sections: []string{SecSecurity}})
	type row struct {
		why     string
		run     int64
		status  string
		secrets bool
	}
	var got []row
	for _, s := range r.Security.Releases {
		got = append(got, row{strings.Join(s.Why, ";"), s.Run, s.Status, s.Secrets != nil && s.Secrets.Status == "succeeded"})
	}
	want := []row{{whyNewest, again.ID, "failed", false}, {whyLive, first.ID, "succeeded", true}}
	if !slices.Equal(got, want) {
		t.Errorf("security rows %+v, want %+v", got, want)
	}
}
