package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every problem it returns
// has a file and a position, and that a config it accepts validates again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "project: {name: a}", "a: &a [*a]", "<<: {project: {name: x}}", "project: !!binary aGVsbG8=",
		"project: {name: x}\nenvironments: {p: {preview: {ttl: P1D}}}", "? [a]\n: b",
		"project: {name: x}\nmonitor: {endpoints: [{name: a, url: /x, environment: p, conditions: ['len([BODY].a) > 1']}]}",
		"project: {name: x}\nworkflows: {w: {triggers: [{cron: '@every 1m'}], steps: [{name: a, uses: notify, with: {channel: 3}}]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "phoenix.yaml")
		if err != nil {
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("error is %T %v, want non-empty Problems", err, err)
			}
			for _, p := range ps {
				if p.File != "phoenix.yaml" || p.Line < 1 || p.Col < 1 || p.Message == "" {
					t.Fatalf("problem without position or message: %#v", p)
				}
			}
			if c != nil {
				t.Fatal("config returned with errors")
			}
			return
		}
		if err := c.Validate(); err != nil && len(err.(Problems).Errors()) > 0 {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
	})
}
