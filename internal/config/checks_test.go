package config

import (
	"slices"
	"strings"
	"testing"
)

// TestChecksEnabled: Enabled answers for every name of CheckNames, and
// for each the answer is its own checks.NAME.enabled.
func TestChecksEnabled(t *testing.T) {
	for _, off := range CheckNames {
		t.Run(off, func(t *testing.T) {
			c, err := Parse([]byte(minimal+"checks:\n  "+off+": {enabled: false}\n"), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range CheckNames {
				if on, ok := c.Checks.Enabled(name); !ok || on != (name != off) {
					t.Errorf("Enabled(%s) = %v, %v", name, on, ok)
				}
			}
		})
	}
	if _, ok := Default().Checks.Enabled("lint"); ok {
		t.Error("lint is no check")
	}
}

// TestWarnsOfStepsOfDisabledChecks: a step of one's own pipeline that
// uses check/NAME while checks.NAME.enabled is false loads with a warning
// at the step's uses, naming the setting and where it is, and saying the
// step runs anyway; nothing else draws it.
func TestWarnsOfStepsOfDisabledChecks(t *testing.T) {
	pipeline := func(steps ...string) string {
		return "pipeline:\n  stages:\n    - name: gates\n      steps:\n" + strings.Join(steps, "")
	}
	const (
		secrets = "        - {name: secrets, uses: check/secrets}\n"
		audit   = "        - name: audit\n          uses: check/audit\n"
		build   = "        - {name: build, run: npm run build}\n"
	)
	tests := []struct {
		name, yaml string
		want       []string // warnings, in file order
	}{
		{"secrets off, its step kept", "checks:\n  secrets: {enabled: false}\n" + pipeline(build, secrets), []string{
			"phoenix.yaml:9:27: warning: pipeline.stages[0].steps[1].uses: check/secrets runs although checks.secrets.enabled is false " +
				"(phoenix.yaml:3:13): a step that names a check runs it anyway " +
				"(hint: remove the step to skip the check, or the setting to run it everywhere)"}},
		{"two off, two steps, block style", "checks:\n  audit:\n    enabled: false\n  secrets:\n    enabled: false\n" +
			pipeline(audit, secrets), []string{
			"phoenix.yaml:12:11: warning: pipeline.stages[0].steps[0].uses: check/audit runs although checks.audit.enabled is false (phoenix.yaml:4:5)",
			"phoenix.yaml:13:27: warning: pipeline.stages[0].steps[1].uses: check/secrets runs although checks.secrets.enabled is false (phoenix.yaml:6:5)"}},
		{"setting after the pipeline", pipeline(secrets) + "checks: {secrets: {enabled: false}}\n", []string{
			"phoenix.yaml:6:27: warning: pipeline.stages[0].steps[0].uses: check/secrets runs although checks.secrets.enabled is false (phoenix.yaml:7:20)"}},
		{"enabled by default", pipeline(secrets), nil},
		{"enabled explicitly", "checks: {secrets: {enabled: true}}\n" + pipeline(secrets), nil},
		{"another check off", "checks: {audit: {enabled: false}}\n" + pipeline(secrets, build), nil},
		{"off, without a step", "checks: {secrets: {enabled: false}}\n" + pipeline(build), nil},
		{"a workflow's step is its own schedule", "checks: {secrets: {enabled: false}}\n" +
			"workflows:\n  nightly:\n    triggers: [{cron: \"@daily\"}]\n    steps:\n" + secrets, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tt.yaml), "phoenix.yaml")
			if err != nil {
				t.Fatalf("a warning must not stop loading: %v", err)
			}
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %d:\n%s\nwant it to start\n%s", i, got[i], w)
				}
			}
			if !slices.IsSortedFunc(c.Warnings, func(a, b Problem) int { return a.Line - b.Line }) {
				t.Errorf("warnings not in file order: %v", got)
			}
		})
	}
}

// TestExceptionBelongsToOneCheck: an exception of a package alone would
// accept both the audit's and the licence check's findings of it, so it
// must say its check (or name an advisory or a licence, which do); one
// that names both, or names one and the other check, is refused too.
func TestExceptionBelongsToOneCheck(t *testing.T) {
	const tail = ", reason: r, expires: 2099-01-01}\n"
	for _, tc := range []struct{ ex, want string }{
		{"{package: some-gpl-lib",
			`phoenix.yaml:4:7: checks.exceptions[0]: would accept both the audit's and the licence check's findings of some-gpl-lib (hint: add check: audit or check: licenses, or name the advisory (id:) or the licence (license:))`},
		{"{package: lodash, versions: \"<4.17.21\"", `checks.exceptions[0]: would accept both`},
		{"{id: GHSA-jf85-cpcp-j695, package: lodash, license: MIT", `checks.exceptions[0]: sets both id (an advisory, which the audit reports) and license`},
		{"{check: licenses, id: GHSA-jf85-cpcp-j695", `phoenix.yaml:4:8: checks.exceptions[0].check: licenses reports no advisories`},
		{"{check: audit, package: b, license: GPL-3.0-only", `checks.exceptions[0].check: audit reports no licences`},
	} {
		t.Run(tc.ex, func(t *testing.T) {
			got := problemsOf(t, minimal+"checks:\n  exceptions:\n    - "+tc.ex+tail).Error()
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	for ex, check := range map[string]string{
		"{check: licenses, package: some-gpl-lib":                "licenses",
		"{check: audit, package: lodash, versions: \"<4.17.21\"": "audit",
		"{id: GHSA-jf85-cpcp-j695, package: lodash":              "audit",
		"{package: b, license: GPL-3.0-only":                     "licenses",
		"{check: audit, id: GHSA-jf85-cpcp-j695":                 "audit",
		"{check: licenses, package: b, license: 0BSD":            "licenses",
	} {
		c, err := Parse([]byte(minimal+"checks:\n  exceptions:\n    - "+ex+tail), "phoenix.yaml")
		if err != nil {
			t.Errorf("%s: %v", ex, err)
			continue
		}
		if got := c.Checks.Exceptions[0].CheckName(); got != check {
			t.Errorf("%s: check %q, want %q", ex, got, check)
		}
	}
}
