package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimal = "project: {name: site}\n"

// problemsOf parses src and returns its problems, failing if it parsed.
func problemsOf(t *testing.T, src string) Problems {
	t.Helper()
	c, err := Parse([]byte(src), "phoenix.yaml")
	if err == nil {
		t.Fatalf("parse succeeded, want problems; warnings: %v", c.Warnings)
	}
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	for _, p := range ps {
		if p.Line < 1 || p.Col < 1 || p.File != "phoenix.yaml" {
			t.Errorf("problem without position: %#v", p)
		}
	}
	return ps
}

func TestParseGoodExamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(c.Warnings) > 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must appear as a line of the error
	}{
		{"unknown top-level key", "projcet: {name: x}\n",
			[]string{`phoenix.yaml:1:1: projcet: unknown key "projcet" (hint: did you mean project?)`}},
		{"unknown nested key", minimal + "environments:\n  production:\n    protecton: {lock: true}\n",
			[]string{`phoenix.yaml:4:5: environments.production.protecton: unknown key "protecton" (hint: did you mean protection?)`}},
		{"type error names the path", minimal + "environments:\n  production:\n    protection:\n      approvals: two\n",
			[]string{`phoenix.yaml:5:18: environments.production.protection.approvals: expected a whole number, got the string "two"`}},
		{"invalid host name", minimal + "environments:\n  prod:\n    domains: [\"x y\"]\n",
			[]string{`phoenix.yaml:4:15: environments.prod.domains[0]: "x y" is not a valid host name (hint: write a bare host name such as www.example.com, without scheme or path)`}},
		{"tab in the indentation", minimal + "build:\n\tcommand: npm run build\n",
			[]string{`phoenix.yaml:3:1: invalid YAML: found character that cannot start any token (a tab: YAML indents with spaces only; replace it with spaces)`}},
		{"host name with a trailing dot", minimal + "environments:\n  prod:\n    domains: [www.example.test.]\n",
			[]string{`phoenix.yaml:4:15: environments.prod.domains[0]: "www.example.test." is not a valid host name (hint: write it without the trailing dot: www.example.test)`}},
		{"approvals out of range", minimal + "environments:\n  production:\n    protection: {approvals: 11, approvers: [admin]}\n",
			[]string{`phoenix.yaml:4:18: environments.production.protection.approvals: 11 is above the maximum 10`}},
		{"string where a number is expected", minimal + "tests:\n  unit: {command: x, coverage: c.info}\n  coverage: {min: \"80\"}\n",
			[]string{`phoenix.yaml:4:19: tests.coverage.min: expected a number, got the string "80"`}},
		{"number where a string is expected", minimal + "build:\n  output: 42\n",
			[]string{`phoenix.yaml:3:11: build.output: expected a string, got the number 42 (hint: quote the value: "42")`}},
		{"project name", "project: {name: My_Site}\n",
			[]string{`phoenix.yaml:1:11: project.name: "My_Site" is not valid (hint: use lowercase letters, digits and '-', at most 63 characters, e.g. my-site)`}},
		{"missing project", "build: {output: dist}\n",
			[]string{`phoenix.yaml:1:1: project.name: is required (hint: add project: {name: my-site})`}},
		{"enum with suggestion", minimal + "build: {package_manager: pnmp}\n",
			[]string{`phoenix.yaml:2:9: build.package_manager: "pnmp" is not allowed (hint: did you mean pnpm?)`}},
		{"unknown action, condition and output reference in a pipeline", minimal + "pipeline:\n  stages:\n" +
			"    - name: build\n      steps:\n        - {name: compile, uses: build}\n" +
			"    - name: ship\n      needs: [build]\n      if: failure\n      steps:\n" +
			"        - {name: deploy, uses: deploi}\n" +
			"        - {name: smoke, run: \"echo ${{ steps.biuld/compile.outputs.dir }}\", if: failur()}\n" +
			"        - {name: gate, uses: approval}\n" +
			"        - {name: tell, uses: validate-tag, env: {D: \"${{ steps.compile.outputs.dir }}\"}}\n",
			[]string{
				`phoenix.yaml:9:7: pipeline.stages[1].if: unknown condition "failure" (hint: did you mean failure()?)`,
				`phoenix.yaml:11:26: pipeline.stages[1].steps[0].uses: unknown action "deploi" (hint: did you mean deploy?)`,
				`phoenix.yaml:12:25: pipeline.stages[1].steps[1].run: refers to the outputs of unknown step "biuld/compile" (hint: did you mean build/compile?)`,
				`phoenix.yaml:12:77: pipeline.stages[1].steps[1].if: unknown condition "failur()" (hint: did you mean failure()?)`,
				`phoenix.yaml:13:24: pipeline.stages[1].steps[2].uses: approval is not an action a step can use`,
				`phoenix.yaml:14:50: pipeline.stages[1].steps[3].env.D: refers to the outputs of unknown step "compile" (hint: did you mean build/compile? a pipeline's steps are stage/step)`,
			}},
		{"unknown action and output reference in a workflow", minimal + "workflows:\n  nightly:\n    triggers: [{cron: \"@daily\"}]\n" +
			"    steps:\n      - {name: verify, uses: backup/verifyy}\n" +
			"      - {name: tell, uses: notify, with: {channel: x, message: \"${{ steps.verfy.outputs.snapshot }}\"}}\n" +
			"notifications: {channels: {x: {type: webhook, url: env:HOOK}}}\n",
			[]string{
				`phoenix.yaml:6:24: workflows.nightly.steps[0].uses: unknown action "backup/verifyy" (hint: did you mean backup/verify?)`,
				`phoenix.yaml:7:55: workflows.nightly.steps[1].with.message: refers to the outputs of unknown step "verfy" (hint: did you mean verify?)`,
			}},
		{"bad node constraint", minimal + "build: {node: \">=20 <<22\"}\n",
			[]string{`build.node: ">=20 <<22" is not a valid version constraint`}},
		{"bad exception semver and missing expiry", minimal + "checks:\n  exceptions:\n    - {package: lodash, versions: \"~>banana\", reason: r}\n",
			[]string{`checks.exceptions[0].versions: "~>banana" is not a valid semver constraint`,
				`checks.exceptions[0].expires: is required`}},
		{"invalid duration", minimal + "monitor:\n  endpoints:\n    - {name: a, url: \"https://x.example/\", interval: 5 minutes}\n",
			[]string{`phoenix.yaml:4:54: monitor.endpoints[0].interval: "5 minutes" is not a duration (hint: write e.g. "30s", "5m", "PT5M" or a number of seconds)`}},
		{"unknown metric", minimal + "monitor:\n  alerts:\n    - {name: A, metric: request/failed, threshold: 5}\n",
			[]string{`monitor.alerts[0].metric: "request/failed" is not allowed (hint: did you mean requests/failed?)`}},
		{"severity out of range", minimal + "monitor:\n  alerts:\n    - {name: A, metric: error_rate, threshold: 1%, severity: 5}\n",
			[]string{`monitor.alerts[0].severity: 5 is above the maximum 4`}},
		{"percent on latency", minimal + "monitor:\n  alert_config:\n    critical:\n      - {type: response_time, threshold: 5%}\n",
			[]string{`monitor.alert_config.critical[0].threshold: a percentage does not apply to response_time`}},
		{"duplicate alert names", minimal + "monitor:\n  alerts:\n    - {name: A, metric: error_rate, threshold: 1}\n    - {name: A, metric: cpu_usage, threshold: 80%}\n",
			[]string{`phoenix.yaml:5:8: monitor.alerts[1].name: duplicate name "A" (also monitor.alerts[0]) (hint: names must be unique)`}},
		{"duplicate keys", minimal + "build: {output: a}\nbuild: {output: b}\n",
			[]string{`phoenix.yaml:3:1: build: duplicate key "build" (first defined on line 2) (hint: remove one of them)`}},
		{"cyclic needs", minimal + "pipeline:\n  stages:\n    - {name: a, needs: [c], steps: [{name: s, run: x}]}\n    - {name: b, needs: [a], steps: [{name: s, run: x}]}\n    - {name: c, needs: [b], steps: [{name: s, run: x}]}\n",
			[]string{`pipeline.stages[0].needs: stage dependencies form a cycle: a -> c -> b -> a`}},
		{"unknown step ref", minimal + "workflows:\n  w:\n    triggers: [{event: deploy.failed}]\n    steps:\n      - {name: build, run: x}\n      - {name: test, run: y, needs: [biuld]}\n",
			[]string{`phoenix.yaml:7:38: workflows.w.steps[1].needs[0]: unknown step "biuld" (hint: did you mean build?)`}},
		{"bad cron", minimal + "workflows:\n  w:\n    triggers: [{cron: \"*/2 * * *\"}]\n    steps: [{name: s, run: x}]\n",
			[]string{`workflows.w.triggers[0].cron: invalid schedule "*/2 * * *"`}},
		{"bad tz", minimal + "workflows:\n  w:\n    triggers: [{cron: \"@daily\", tz: Mars/Olympus}]\n    steps: [{name: s, run: x}]\n",
			[]string{`workflows.w.triggers[0].tz: "Mars/Olympus" is not usable here`}},
		{"unknown event", minimal + "workflows:\n  w:\n    triggers: [{event: deploy.succeded}]\n    steps: [{name: s, run: x}]\n",
			[]string{`workflows.w.triggers[0].event: "deploy.succeded" is not allowed (hint: did you mean deploy.succeeded?)`}},
		{"short webhook secret", minimal + "workflows:\n  w:\n    triggers: [{webhook: {auth: bearer, secret: s3cr3t-h00k}}]\n    steps: [{name: s, run: x}]\n",
			[]string{`workflows.w.triggers[0].webhook.secret: the webhook secret written in the file is shorter than 16 characters, so it could be guessed (hint: make one with: openssl rand -hex 32)`}},
		{"two trigger kinds", minimal + "workflows:\n  w:\n    triggers: [{event: deploy.failed, cron: \"@daily\"}]\n    steps: [{name: s, run: x}]\n",
			[]string{`workflows.w.triggers[0]: a trigger needs exactly one of cron, webhook, event (has 2)`}},
		{"unknown channel", minimal + "monitor:\n  alerts:\n    - {name: A, metric: error_rate, threshold: 1, notify: [temas]}\nnotifications:\n  channels:\n    teams: {type: teams, url: \"secret:HOOK\"}\n",
			[]string{`monitor.alerts[0].notify[0]: unknown notification channel "temas" (hint: did you mean teams?)`}},
		{"bad secret reference", minimal + "notifications:\n  channels:\n    teams: {type: teams, url: \"secret:my-hook\"}\n",
			[]string{`notifications.channels.teams.url: secret reference "secret:my-hook" has an invalid name`}},
		{"gatus placeholder typo", minimal + "monitor:\n  endpoints:\n    - name: a\n      url: https://x.example/\n      conditions: [\"[STATUSS] == 200\"]\n",
			[]string{`monitor.endpoints[0].conditions[0]: "[STATUSS] == 200" is not a valid condition (hint: did you mean [STATUS]?)`}},
		{"bad status value", minimal + "monitor:\n  endpoints:\n    - name: a\n      url: https://x.example/\n      conditions: [{type: status, value: 2000}]\n",
			[]string{`monitor.endpoints[0].conditions[0]: "2000" is not an HTTP status`}},
		{"path url without environment", minimal + "monitor:\n  endpoints:\n    - {name: a, url: /health}\n",
			[]string{`monitor.endpoints[0].url: a path-only URL needs an environment`}},
		{"unknown environment reference", minimal + "environments: {staging: {}}\nrelease: {environments: [staging, prod]}\n",
			[]string{`release.environments[1]: unknown environment "prod" (hint: define it under environments)`}},
		{"bad ip range", minimal + "environments:\n  production:\n    ip_allow: [xxx.xxx.xxx.xxx/24]\n",
			[]string{`environments.production.ip_allow[0]: "xxx.xxx.xxx.xxx/24" is not an IP address or range`}},
		{"environment name", minimal + "environments:\n  Prod_1: {}\n",
			[]string{`phoenix.yaml:3:3: environments.Prod_1: "Prod_1" is not a valid name`}},
		{"null value", minimal + "build:\n",
			[]string{`phoenix.yaml:2:7: build: has no value (hint: remove the key or give it a value)`}},
		{"list expected", minimal + "release: {environments: production}\n",
			[]string{`release.environments: expected a list, got the string "production"`}},
		{"licence in two lists", minimal + "checks:\n  licenses: {allow: [MIT], deny: [MIT]}\n",
			[]string{`checks.licenses.deny[0]: MIT is also in checks.licenses.allow`}},
		{"licences dev not a boolean", minimal + "checks:\n  licenses: {dev: sometimes}\n",
			[]string{`phoenix.yaml:3:19: checks.licenses.dev: expected true or false, got the string "sometimes"`}},
		{"licences dev without a value", minimal + "checks:\n  licenses:\n    dev:\n",
			[]string{`phoenix.yaml:4:9: checks.licenses.dev: has no value (hint: remove the key or give it a value)`}},
		{"backup retention and frequency", minimal + "backup: {frequency: fortnightly, retention: 90 days}\n",
			[]string{`backup.retention: "90 days" is not a duration`, `backup.frequency: "fortnightly" is not a schedule`}},
		{"yaml syntax", minimal + "build:\n  output: [dist\n",
			[]string{`phoenix.yaml:3:1: invalid YAML: did not find expected ',' or ']'`}},
		{"unknown anchor", minimal + "build:\n  output: *nope\n",
			[]string{`phoenix.yaml:3:11: invalid YAML: unknown anchor 'nope' referenced`}},
		{"two documents", minimal + "---\nproject: {name: b}\n",
			[]string{`only one YAML document is allowed`}},
		{"empty", "# nothing\n", []string{`phoenix.yaml:1:1: file is empty (hint: run phoenix init to write one)`}},
		{"not a mapping", "- a\n- b\n", []string{`phoenix.yaml:1:1: expected a mapping of sections such as project:, build:, got a list`}},
		{"alias bomb", aliasBomb(), []string{`document is too large or too deeply nested`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, tt.src).Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

// aliasBomb nests merge keys so that expanding them fully would take 10^9
// nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString(minimal + "environments:\n  e0: &a0 {protection: {lock: true}}\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  e%d: &a%d {<<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	return b.String()
}

func TestParseCollectsAllProblems(t *testing.T) {
	src := "projec: {name: x}\n" +
		"build: {package_manager: bun, output: /abs}\n" +
		"monitor:\n  alerts:\n    - {name: A, metric: cpu, threshold: 5, severity: 9}\n"
	ps := problemsOf(t, src)
	if len(ps) < 5 {
		t.Fatalf("got %d problems, want at least 5:\n%v", len(ps), ps)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Line < ps[i-1].Line {
			t.Errorf("problems not in file order:\n%v", ps)
		}
	}
}

// TestProblemsErrorLeavesWarningsOut: a config that fails to load has an
// error message of its errors alone; its warnings stay in the Problems.
func TestProblemsErrorLeavesWarningsOut(t *testing.T) {
	ps := problemsOf(t, minimal+"environments:\n  production:\n    protection: {approvals: 1}\n"+
		"edge:\n  rate_limit: {requests: 10, per: 0s}\n")
	if len(ps.Warnings()) != 1 || len(ps.Errors()) != 1 {
		t.Fatalf("want one warning and one error:\n%v", ps)
	}
	if got, want := ps.Error(), `phoenix.yaml:6:30: edge.rate_limit.per: must be positive (hint: write e.g. "1m")`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := ps.Warnings().Error(); !strings.Contains(got, "warning: environments.production.protection.approvers") {
		t.Fatalf("warnings: %q", got)
	}
}

func TestParseWarnings(t *testing.T) {
	const hook = "https://example.webhook.office.com/webhookb2/abc@def/IncomingWebhook/0123456789abcdef/xyz"
	src := minimal + "notifications:\n  channels:\n    teams: {type: teams, url: \"" + hook + "\"}\n" +
		"checks:\n  exceptions:\n    - {id: CVE-2020-12345, reason: old, expires: 2001-01-01}\n"
	c, err := Parse([]byte(src), "")
	if err != nil {
		t.Fatalf("warnings must not stop loading: %v", err)
	}
	got := c.Warnings.Error()
	for _, w := range []string{
		"phoenix.yaml:4:26: warning: notifications.channels.teams.url: this webhook URL looks like a secret",
		"checks.exceptions[0].expires: exception expired on 2001-01-01",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if strings.Contains(got, "0123456789abcdef") {
		t.Errorf("warning leaks the webhook URL:\n%s", got)
	}
	if s := c.Notifications.Channels["teams"].URL.String(); strings.Contains(s, "office") {
		t.Errorf("SecretRef.String leaks the literal: %s", s)
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	src := minimal + `
x-probe: &probe {interval: 30s, timeout: 5s}
environments:
  staging:
    health_checks:
      - {<<: *probe, name: s, url: /health}
  production:
    health_checks:
      - <<: *probe
        name: p
        url: /health
        timeout: 7s
`
	_, err := Parse([]byte(src), "")
	ps, _ := err.(Problems)
	if len(ps) != 1 || ps[0].Field != "x-probe" {
		t.Fatalf("want only the unknown x-probe key, got %v", err)
	}
	c, err := Parse([]byte(strings.Replace(src, "x-probe: &probe {interval: 30s, timeout: 5s}\n", "", 1)+
		"workflows: {}\n"), "")
	if err == nil || c != nil {
		t.Fatalf("alias without anchor should fail, got %v", err)
	}
	src = minimal + `
environments:
  staging: &env
    health_checks: [{name: s, url: /health, interval: 30s, timeout: 5s}]
  production:
    <<: *env
    protection: {lock: true}
`
	c, err = Parse([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Environments["production"]
	if !p.Protection.Lock || len(p.HealthChecks) != 1 || p.HealthChecks[0].Timeout.D() != 5*time.Second {
		t.Errorf("merge not applied: %+v", p)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal+"environments: {production: {health_checks: [{name: h, url: /}]}}\nmonitor: {alerts: [{name: A, metric: error_rate, threshold: 1%}]}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	e := c.Environments["production"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"package manager", c.Build.PackageManager, "auto"},
		{"audit severity", c.Checks.Audit.Severity, "high"},
		{"probe interval", e.HealthChecks[0].Interval.D(), time.Minute},
		{"probe timeout", e.HealthChecks[0].Timeout.D(), 10 * time.Second},
		{"probe method", e.HealthChecks[0].Method, "GET"},
		{"rollback", e.Rollback.Auto, true},
		{"alert window", c.Monitor.Alerts[0].Window.D(), 5 * time.Minute},
		{"alert severity", c.Monitor.Alerts[0].Severity, 2},
		{"backup schedule", c.Backup.Schedule(), "@daily"},
		{"retention days", c.Backup.Retention.Days(), 90},
		{"release tag prefix", c.Release.TagPrefix, "v"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "phoenix.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("want a not-exist error, got %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(path, []byte(minimal+"#"+strings.Repeat("x", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want a size error, got %v", err)
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{File: "phoenix.yaml", Line: 12, Col: 5, Field: "environments.prod.domains[0]",
		Message: `"x y" is not a valid host name`, Hint: "use a host name"}
	want := `phoenix.yaml:12:5: environments.prod.domains[0]: "x y" is not a valid host name (hint: use a host name)`
	if p.String() != want {
		t.Errorf("got  %s\nwant %s", p, want)
	}
	if got := (Problem{Message: "m"}).String(); got != "m" {
		t.Errorf("bare problem = %q", got)
	}
}

func typeOfConfig() reflect.Type { return reflect.TypeFor[Config]() }

func TestValidateBuiltInCode(t *testing.T) {
	c := Default()
	err := c.Validate()
	ps, ok := err.(Problems)
	if !ok || len(ps) != 1 || ps[0].Field != "project.name" || ps[0].Line != 0 {
		t.Fatalf("want only project.name without a position, got %v", err)
	}
	c.Project.Name = "site"
	c.Environments = map[string]*Environment{"production": {}, "qa": {}, "staging": {}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ReleaseEnvironments(), ","); got != "staging,production,qa" {
		t.Errorf("ReleaseEnvironments = %s", got)
	}
}

func BenchmarkParseFull(b *testing.B) {
	data, err := os.ReadFile("testdata/good/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, "full.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProbeTimeoutWarningWritesDurations: the warning about a probe whose
// timeout exceeds its interval writes both as phoenix.yaml does (1m30s,
// 1m), not as Go's 1m30s and 1m0s.
func TestProbeTimeoutWarningWritesDurations(t *testing.T) {
	c, err := Parse([]byte(minimal+"monitor:\n  endpoints:\n    - {name: a, url: \"https://x.example/\", interval: 1m, timeout: 90s}\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Warnings.Error(); !strings.Contains(got, "monitor.endpoints[0].timeout: timeout 1m30s is longer than the interval 1m (hint") {
		t.Errorf("warnings: %q", got)
	}
}

// TestProbeTimeoutWarningSaysItIsTheDefault: a probe with a short interval
// and no timeout gets the warning about the default timeout, which says
// so; it read as if the file set a timeout of 10s.
func TestProbeTimeoutWarningSaysItIsTheDefault(t *testing.T) {
	for probe, want := range map[string]string{
		"{name: a, url: \"https://x.example/\", interval: 5s}":               "timeout 10s (the default) is longer than the interval 5s (hint",
		"{name: a, url: \"https://x.example/\", interval: 5s, timeout: 10s}": ".timeout: timeout 10s is longer than the interval 5s (hint",
	} {
		c, err := Parse([]byte(minimal+"monitor:\n  endpoints:\n    - "+probe+"\n"), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Warnings.Error(); !strings.Contains(got, want) {
			t.Errorf("%s: warnings %q, want %q", probe, got, want)
		}
	}
}
