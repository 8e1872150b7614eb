package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	ended string // "skip: …" or "fatal: …", "" if the helper returned
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.ended = "skip: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "fatal: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestRequireTool: a program on PATH is found; a missing one skips the
// test, or fails it under PHOENIX_REQUIRE_TOOLS=1.
func TestRequireTool(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "phoenix-test-tool")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	call := func(name string) (string, string) {
		r := &recorder{TB: t}
		var got string
		done := make(chan struct{})
		go func() {
			defer close(done)
			got = RequireTool(r, name, "pkg")
		}()
		<-done
		return got, r.ended
	}
	if got, ended := call("phoenix-test-tool"); got != prog || ended != "" {
		t.Errorf("a program on PATH: %q, %q", got, ended)
	}
	t.Setenv(requireToolsEnv, "")
	if _, ended := call("phoenix-no-such-tool"); ended != "skip: phoenix-no-such-tool not installed (apt-get install pkg)" {
		t.Errorf("a missing program: %q", ended)
	}
	t.Setenv(requireToolsEnv, "1")
	if _, ended := call("phoenix-no-such-tool"); ended != "fatal: phoenix-no-such-tool is required (PHOENIX_REQUIRE_TOOLS=1): apt-get install pkg" {
		t.Errorf("a missing program under %s=1: %q", requireToolsEnv, ended)
	}
}
