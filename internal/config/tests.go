package config

import "time"

// Tests lists the project's own test commands. In the default plan each
// starts once the install step has installed the dependencies, then runs
// in parallel with the build (which does not install again); a failing
// suite fails the release unless it is optional.
type Tests struct {
	Unit        *TestSuite  `yaml:"unit" doc:"Unit tests, e.g. npm test -- --ci."`
	Integration *TestSuite  `yaml:"integration" doc:"Integration tests."`
	E2E         *TestSuite  `yaml:"e2e" doc:"End-to-end tests (Cypress, Playwright) against a preview of the build."`
	Load        *TestSuite  `yaml:"load" doc:"Load tests (k6) against staging."`
	Coverage    CoverageReq `yaml:"coverage" doc:"Coverage gate over the suites' coverage reports."`
}

// Suites returns the configured suites by kind (unit, integration, e2e, load).
func (t *Tests) Suites() map[string]*TestSuite {
	out := map[string]*TestSuite{}
	for k, s := range map[string]*TestSuite{"unit": t.Unit, "integration": t.Integration, "e2e": t.E2E, "load": t.Load} {
		if s != nil {
			out[k] = s
		}
	}
	return out
}

// TestSuite is one test command and where it writes its reports.
type TestSuite struct {
	Command  string   `yaml:"command" required:"true" doc:"Shell command, run in the app directory."`
	JUnit    string   `yaml:"junit" doc:"JUnit XML report path or glob, relative to the app directory."`
	Coverage string   `yaml:"coverage" doc:"Coverage report path (lcov, Cobertura XML or Istanbul coverage-summary.json)."`
	Timeout  Duration `yaml:"timeout" doc:"Time limit (default 20m)."`
	Env      EnvMap   `yaml:"env" doc:"Extra environment variables."`
	Optional bool     `yaml:"optional" doc:"When true a failure is reported but does not fail the release."`
	Target   string   `yaml:"target" pattern:"slug" doc:"Environment the suite runs against (e2e, load), e.g. staging."`
}

func (s *TestSuite) setDefaults() { s.Timeout = Duration(20 * time.Minute) }

// CoverageReq is the coverage gate.
type CoverageReq struct {
	Min float64 `yaml:"min" min:"0" max:"100" doc:"Minimum line coverage in percent; 0 disables the gate."`
}

func (t *Tests) validate(v *validator) {
	anyCoverage := false
	for _, kind := range []string{"unit", "integration", "e2e", "load"} {
		s := t.Suites()[kind]
		if s == nil {
			continue
		}
		p := "tests." + kind
		if s.Command == "" {
			v.errorf(p+".command", "give the shell command that runs the suite", "is required")
		}
		v.relPath(p+".junit", s.JUnit)
		v.relPath(p+".coverage", s.Coverage)
		if s.Timeout < 0 {
			v.errorf(p+".timeout", "", "must not be negative")
		}
		v.envRef(p+".target", s.Target)
		anyCoverage = anyCoverage || s.Coverage != ""
	}
	if t.Coverage.Min > 0 && !anyCoverage {
		v.errorf("tests.coverage.min", "set tests.unit.coverage to the report path, e.g. coverage/lcov.info",
			"a coverage minimum needs a suite with a coverage report")
	}
}
