// Package testreport reads the reports test runners write: JUnit XML (test
// counts, failures and durations) and coverage in lcov, Cobertura XML, Go
// cover profiles and Istanbul coverage-summary.json (a line percentage),
// and gates a release on tests.coverage.min.
//
// Parsers read untrusted files: they never panic, cap what they read, and
// name the file and the position of what they could not understand.
package testreport

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxReportSize is the largest report file read.
const MaxReportSize = 64 << 20

// MaxFailures is how many failed cases a Summary keeps (the counts are exact).
const MaxFailures = 200

// Summary is what one or more JUnit reports say.
type Summary struct {
	Tests    int           `json:"tests"`
	Failures int           `json:"failures"` // assertion failures
	Errors   int           `json:"errors"`   // tests that crashed
	Skipped  int           `json:"skipped"`
	Duration time.Duration `json:"duration"` // sum of the test cases' times
	Failed   []Case        `json:"failed,omitempty"`
	Files    []string      `json:"files,omitempty"`
}

// Passed is the number of tests that neither failed, errored nor were skipped.
func (s *Summary) Passed() int { return max(0, s.Tests-s.Failures-s.Errors-s.Skipped) }

// OK reports whether no test failed or errored.
func (s *Summary) OK() bool { return s.Failures == 0 && s.Errors == 0 }

// String is a one-line summary such as "12 tests: 10 passed, 1 failed, 0 errors, 1 skipped in 3.2s".
func (s *Summary) String() string {
	return fmt.Sprintf("%d tests: %d passed, %d failed, %d errors, %d skipped in %s",
		s.Tests, s.Passed(), s.Failures, s.Errors, s.Skipped, s.Duration.Round(time.Millisecond))
}

// Add merges o into s.
func (s *Summary) Add(o *Summary) {
	s.Tests += o.Tests
	s.Failures += o.Failures
	s.Errors += o.Errors
	s.Skipped += o.Skipped
	s.Duration += o.Duration
	s.Files = append(s.Files, o.Files...)
	for _, c := range o.Failed {
		if len(s.Failed) < MaxFailures {
			s.Failed = append(s.Failed, c)
		}
	}
}

// Case is one failed or errored test case.
type Case struct {
	Suite    string        `json:"suite,omitempty"`
	Class    string        `json:"class,omitempty"`
	Name     string        `json:"name"`
	Kind     string        `json:"kind"`              // failure or error
	Message  string        `json:"message,omitempty"` // first 500 characters
	Duration time.Duration `json:"duration"`
}

// ParseJUnit reads one JUnit XML report: a <testsuites> or <testsuite>
// root, suites nested at any depth, <testcase> elements with <failure>,
// <error> and <skipped> children. Counts come from the test cases, not the
// suites' own attributes (which runners often get wrong), except for a
// suite that lists no cases.
func ParseJUnit(name string, r io.Reader) (*Summary, error) {
	dec := xml.NewDecoder(io.LimitReader(r, MaxReportSize))
	dec.Strict = false
	p := junitParser{s: &Summary{Files: []string{name}}}
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%s:%d: not valid JUnit XML: %w", name, line, err)
		}
		if !sawRoot {
			if se, ok := tok.(xml.StartElement); ok {
				if se.Name.Local != "testsuites" && se.Name.Local != "testsuite" {
					return nil, fmt.Errorf("%s: root element is <%s>, want <testsuites> or <testsuite>", name, se.Name.Local)
				}
				sawRoot = true
			}
		}
		if err := p.token(dec, tok); err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%s: no <testsuites> or <testsuite> element", name)
	}
	return p.s, nil
}

type suiteFrame struct {
	name  string
	cases int
	attrs map[string]string
}

type junitParser struct {
	s      *Summary
	suites []*suiteFrame
}

func attrMap(se xml.StartElement) map[string]string {
	m := make(map[string]string, len(se.Attr))
	for _, a := range se.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

func (p *junitParser) token(dec *xml.Decoder, tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		switch t.Name.Local {
		case "testsuite":
			a := attrMap(t)
			p.suites = append(p.suites, &suiteFrame{name: a["name"], attrs: a})
		case "testcase":
			for _, f := range p.suites {
				f.cases++
			}
			return p.testCase(dec, t)
		}
	case xml.EndElement:
		if t.Name.Local == "testsuite" && len(p.suites) > 0 {
			f := p.suites[len(p.suites)-1]
			p.suites = p.suites[:len(p.suites)-1]
			if f.cases == 0 {
				p.suiteTotals(f.attrs)
			}
		}
	}
	return nil
}

// suiteTotals counts a suite that has totals but no cases.
func (p *junitParser) suiteTotals(a map[string]string) {
	n := func(k string) int { v, _ := strconv.Atoi(strings.TrimSpace(a[k])); return max(v, 0) }
	p.s.Tests += n("tests")
	p.s.Failures += n("failures")
	p.s.Errors += n("errors")
	p.s.Skipped += n("skipped") + n("disabled")
	p.s.Duration += seconds(a["time"])
}

// testCase reads one <testcase> element to its end.
func (p *junitParser) testCase(dec *xml.Decoder, start xml.StartElement) error {
	a := attrMap(start)
	c := Case{Class: a["classname"], Name: a["name"], Duration: seconds(a["time"])}
	if len(p.suites) > 0 {
		c.Suite = p.suites[len(p.suites)-1].name
	}
	p.s.Tests++
	p.s.Duration += c.Duration
	depth, skipped := 1, false
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("unexpected end inside <testcase>")
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				p.outcome(&c, &skipped, t)
			}
		case xml.EndElement:
			depth--
		}
	}
	if c.Kind != "" && len(p.s.Failed) < MaxFailures {
		p.s.Failed = append(p.s.Failed, c)
	}
	return nil
}

func (p *junitParser) outcome(c *Case, skipped *bool, t xml.StartElement) {
	if c.Kind != "" || *skipped {
		return // one outcome per case
	}
	switch t.Name.Local {
	case "failure", "error":
		c.Kind = t.Name.Local
		if c.Kind == "failure" {
			p.s.Failures++
		} else {
			p.s.Errors++
		}
		c.Message = clip(attrMap(t)["message"], 500)
	case "skipped":
		*skipped = true
		p.s.Skipped++
	}
}

// seconds parses a JUnit time attribute ("1.25", "1,250.5"); bad values are 0.
func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e7 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
