package testreport

import (
	"bytes"
	"testing"
)

func FuzzParseJUnit(f *testing.F) {
	f.Add([]byte(jestJUnit))
	f.Add([]byte(`<testsuite tests="3" failures="9"/>`))
	f.Add([]byte(`<testsuites><testsuite><testsuite><testcase><skipped/><failure/></testcase></testsuite></testsuite></testsuites>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseJUnit("f.xml", bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.Tests < 0 || s.Failures < 0 || s.Errors < 0 || s.Skipped < 0 || s.Duration < 0 || s.Passed() < 0 {
			t.Fatalf("negative counts: %+v", s)
		}
		if len(s.Failed) > MaxFailures {
			t.Fatalf("%d failed cases kept", len(s.Failed))
		}
	})
}

func FuzzParseCoverage(f *testing.F) {
	f.Add([]byte("SF:a.js\nDA:1,1\nDA:2,0\nend_of_record\n"))
	f.Add([]byte("mode: atomic\na.go:1.1,2.2 3 1\n"))
	f.Add([]byte(`<coverage lines-covered="3" lines-valid="4"/>`))
	f.Add([]byte(`{"total":{"lines":{"total":2,"covered":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCoverage("f", data)
		if err != nil {
			return
		}
		if p := c.Percent(); c.Covered < 0 || c.Total < 0 || p < 0 || p > 100 {
			t.Fatalf("out of range: %+v (%f%%)", c, p)
		}
	})
}
