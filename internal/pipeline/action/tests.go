package action

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/testreport"
)

// runTests runs one configured suite (input suite: unit, integration, e2e
// or load) in the app directory, then reads its JUnit and coverage reports
// into outputs (tests, failures, errors, skipped, covered, total).
func (d *Deps) runTests(ctx context.Context, sc *Context) error {
	kind := sc.String("suite")
	if sc.Config == nil {
		return errors.New("test: no phoenix.yaml")
	}
	suite := sc.Config.Tests.Suites()[kind]
	if suite == nil {
		return fmt.Errorf("test: no tests.%s in phoenix.yaml", kind)
	}
	env, err := d.withConfigEnv(ctx, sc, sc.Env, suite.Env, "tests."+kind+".env")
	if err != nil {
		return err
	}
	sc.Logf("%s tests: %s", kind, suite.Command)
	runErr := sc.Exec(ctx, executor.Cmd{Script: suite.Command, Env: env})
	if suite.JUnit != "" {
		s, err := testreport.LoadJUnit(sc.WorkDir, suite.JUnit)
		if err != nil {
			sc.Logf("junit: %v", err)
		} else {
			sc.Logf("junit: %s", s)
			for _, c := range s.Failed {
				sc.Logf("  %s: %s %s: %s", c.Kind, c.Class, c.Name, c.Message)
			}
			for k, v := range map[string]int{"tests": s.Tests, "failures": s.Failures, "errors": s.Errors, "skipped": s.Skipped} {
				sc.SetOutput(k, strconv.Itoa(v))
			}
			if runErr == nil && !s.OK() {
				runErr = fmt.Errorf("%d test(s) failed", s.Failures+s.Errors)
			}
		}
	}
	if suite.Coverage != "" {
		c, err := testreport.LoadCoverage(sc.WorkDir, suite.Coverage)
		if err != nil {
			sc.Logf("coverage: %v", err)
		} else {
			sc.Logf("coverage: %s", c)
			sc.SetOutput("covered", strconv.Itoa(c.Covered))
			sc.SetOutput("total", strconv.Itoa(c.Total))
			sc.SetOutput("coverage_format", c.Format)
		}
	}
	if runErr != nil {
		return fmt.Errorf("%s tests: %w", kind, runErr)
	}
	return nil
}

// testReport sums the test steps' outputs (input steps) and applies the
// tests.coverage.min gate.
func testReport(_ context.Context, sc *Context) error {
	var total testreport.Summary
	var cov testreport.Coverage
	counted, ran := 0, 0 // steps with a JUnit report; steps that ran
	for _, st := range sc.Strings("steps") {
		if s := sc.Status(st); s == "succeeded" || s == "failed" {
			ran++
		}
		n := func(k string) int { v, _ := strconv.Atoi(sc.Output(st, k)); return v }
		if sc.Output(st, "tests") != "" {
			counted++
			total.Add(&testreport.Summary{Tests: n("tests"), Failures: n("failures"), Errors: n("errors"), Skipped: n("skipped")})
		}
		if t := n("total"); t > 0 {
			cov.Add(testreport.Coverage{Covered: n("covered"), Total: t, Format: sc.Output(st, "coverage_format")})
		}
		sc.Logf("%s: %s", st, sc.Status(st))
	}
	if ran == 0 {
		// An earlier failure (the tag, the install) kept every suite from
		// running: there is nothing to report, and no coverage to gate.
		sc.Logf("tests: no suite ran")
		return nil
	}
	if counted == 0 {
		// Without a report there is nothing to count: "0 tests" would be
		// false. The suites' exit status decided, as logged above.
		sc.Logf("tests: not counted: no suite has a JUnit report (tests.<suite>.junit in phoenix.yaml); each suite's exit status decided")
	} else {
		if steps := len(sc.Strings("steps")); counted < steps {
			sc.Logf("tests: %s (%d of %d suites; the others have no JUnit report)", &total, counted, steps)
		} else {
			sc.Logf("tests: %s", &total)
		}
		sc.SetOutput("tests", strconv.Itoa(total.Tests))
		sc.SetOutput("failures", strconv.Itoa(total.Failures+total.Errors))
	}
	if cov.Total > 0 {
		sc.Logf("coverage: %s", cov)
		sc.SetOutput("coverage", strconv.FormatFloat(cov.Percent(), 'f', 1, 64))
	}
	if sc.Config == nil {
		return nil
	}
	return testreport.CheckMin(cov, sc.Config.Tests.Coverage.Min)
}
