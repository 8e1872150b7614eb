package testreport

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const jestJUnit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4" failures="1" errors="0" time="1.5">
  <testsuite name="math" tests="3" failures="1" skipped="1" time="1.2">
    <testcase classname="math add" name="adds" time="0.5"/>
    <testcase classname="math sub" name="subtracts" time="0.25">
      <failure message="expected 1 to be 2">Error: expected 1 to be 2
    at Object.&lt;anonymous&gt; (math.test.js:5:3)</failure>
    </testcase>
    <testcase classname="math mul" name="multiplies" time="0"><skipped/></testcase>
  </testsuite>
  <testsuite name="io" tests="1" errors="1" time="0.3">
    <testcase classname="io" name="reads" time="0.25"><error message="ENOENT"/></testcase>
  </testsuite>
</testsuites>`

func TestParseJUnit(t *testing.T) {
	tests := []struct {
		name, doc                       string
		tests, fail, errs, skip, passed int
		dur                             time.Duration
	}{
		{"jest with nested suites", jestJUnit, 4, 1, 1, 1, 1, time.Second},
		{"single testsuite root", `<testsuite name="x"><testcase name="a" time="2"/></testsuite>`, 1, 0, 0, 0, 1, 2 * time.Second},
		{"suite totals without cases", `<testsuites><testsuite name="x" tests="7" failures="2" skipped="1" time="3.5"/></testsuites>`, 7, 2, 0, 1, 4, 3500 * time.Millisecond},
		{"failure and error in one case counts once", `<testsuite><testcase name="a"><failure/><error/></testcase></testsuite>`, 1, 1, 0, 0, 0, 0},
		{"bad time is zero", `<testsuite><testcase name="a" time="NaN"/><testcase name="b" time="-1"/></testsuite>`, 2, 0, 0, 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseJUnit("r.xml", strings.NewReader(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if s.Tests != tt.tests || s.Failures != tt.fail || s.Errors != tt.errs || s.Skipped != tt.skip || s.Passed() != tt.passed {
				t.Errorf("got %s", s)
			}
			if s.Duration != tt.dur {
				t.Errorf("duration %s, want %s", s.Duration, tt.dur)
			}
		})
	}
}

func TestParseJUnitFailuresNamed(t *testing.T) {
	s, err := ParseJUnit("r.xml", strings.NewReader(jestJUnit))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Failed) != 2 || s.Failed[0].Name != "subtracts" || s.Failed[0].Message != "expected 1 to be 2" ||
		s.Failed[0].Suite != "math" || s.Failed[1].Kind != "error" {
		t.Errorf("failed cases: %+v", s.Failed)
	}
	if s.OK() {
		t.Error("OK with failures")
	}
}

func TestParseJUnitRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not xml":          "hello",
		"wrong root":       "<html><body/></html>",
		"truncated":        "<testsuite><testcase name='a'>",
		"empty":            "",
		"unclosed element": "<testsuites><testsuite>",
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := ParseJUnit("r.xml", strings.NewReader(doc)); err == nil && s.Tests > 0 {
				t.Fatalf("accepted: %+v", s)
			} else if err != nil && !strings.Contains(err.Error(), "r.xml") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestCoverageFormats(t *testing.T) {
	tests := []struct {
		name, doc, format string
		covered, total    int
	}{
		{"lcov DA lines", "TN:\nSF:src/a.js\nDA:1,1\nDA:2,0\nDA:3,5\nLF:3\nLH:2\nend_of_record\nSF:src/b.js\nDA:1,0\nend_of_record\n", "lcov", 2, 4},
		{"lcov same file twice counts a line once", "SF:a.js\nDA:1,0\nend_of_record\nSF:a.js\nDA:1,3\nend_of_record\n", "lcov", 1, 1},
		{"lcov totals only", "SF:a.js\nLF:10\nLH:7\nend_of_record\n", "lcov", 7, 10},
		{"go profile", "mode: set\na.go:1.1,2.2 3 1\na.go:3.1,4.2 1 0\nb.go:1.1,1.5 2 0\na.go:3.1,4.2 1 1\n", "go", 4, 6},
		{"cobertura totals", `<?xml version="1.0"?><coverage line-rate="0.75" lines-covered="3" lines-valid="4"><packages/></coverage>`, "cobertura", 3, 4},
		{"cobertura lines", `<coverage><packages><package><classes><class filename="a.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class></classes></package></packages></coverage>`, "cobertura", 1, 2},
		{"istanbul summary", `{"total":{"lines":{"total":200,"covered":150,"skipped":0,"pct":75}}}`, "istanbul", 150, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCoverage("cov", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if c.Format != tt.format || c.Covered != tt.covered || c.Total != tt.total {
				t.Errorf("got %+v, want %s %d/%d", c, tt.format, tt.covered, tt.total)
			}
		})
	}
}

func TestCoverageRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"lcov bad DA":       "SF:a\nDA:x,1\nend_of_record\n",
		"lcov nothing":      "hello world\n",
		"go bad line":       "mode: set\nnot a block\n",
		"istanbul no total": `{"a":1}`,
		"cobertura no root": `<report/>`,
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := ParseCoverage("cov.txt", []byte(doc)); err == nil {
				t.Fatalf("accepted: %+v", c)
			} else if !strings.Contains(err.Error(), "cov.txt") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestCheckMin(t *testing.T) {
	tests := []struct {
		name string
		c    Coverage
		min  float64
		ok   bool
	}{
		{"above", Coverage{81, 100, "lcov"}, 80, true},
		{"exactly", Coverage{80, 100, "lcov"}, 80, true},
		{"below", Coverage{79, 100, "lcov"}, 80, false},
		{"nothing measured", Coverage{}, 50, false},
		{"gate off", Coverage{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMin(tt.c, tt.min)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckMin = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "required") {
				t.Errorf("message: %v", err)
			}
		})
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "reports"), 0o755)
	os.WriteFile(filepath.Join(dir, "reports", "a.xml"), []byte(jestJUnit), 0o644)
	os.WriteFile(filepath.Join(dir, "reports", "b.xml"), []byte(`<testsuite><testcase name="x"/></testsuite>`), 0o644)
	os.WriteFile(filepath.Join(dir, "lcov.info"), []byte("SF:a\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n"), 0o644)
	s, err := LoadJUnit(dir, "reports/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Tests != 5 || len(s.Files) != 2 {
		t.Errorf("merged: %s files %v", s, s.Files)
	}
	if _, err := LoadJUnit(dir, "missing/*.xml"); err == nil {
		t.Error("a glob matching nothing is accepted")
	}
	c, err := LoadCoverage(dir, "lcov.info")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Percent()-66.666) > 0.01 {
		t.Errorf("percent %f", c.Percent())
	}
}
