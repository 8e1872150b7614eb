package osv

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseEntry: arbitrary JSON never panics the parser or the matcher.
func FuzzParseEntry(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(realData, "*.json"))
	for _, p := range files[:min(5, len(files))] {
		data, _ := os.ReadFile(p)
		f.Add(data, "1.2.3")
	}
	f.Add([]byte(`{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"last_affected":"v1"}]}],"versions":["1"]}]}`), "v0.0.0-2020")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		e, err := ParseEntry("f.json", data)
		if err != nil {
			return
		}
		for _, r := range e.Records() {
			r.Match(version)
		}
	})
}

// FuzzCVSS3: vectors never panic and scores stay within 0..10.
func FuzzCVSS3(f *testing.F) {
	f.Add("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	f.Fuzz(func(t *testing.T, v string) {
		if s, ok := CVSS3Score(v); ok && (s < 0 || s > 10) {
			t.Fatalf("%q scored %v", v, s)
		}
	})
}
