package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireToolsEnv, set to 1 (as CI sets it, having installed the tools),
// makes a test fail instead of skipping when a program it needs is missing.
const requireToolsEnv = "PHOENIX_REQUIRE_TOOLS"

// RequireTool returns the path of the program name, found on PATH or, as
// daemons are installed off an ordinary user's PATH, in /usr/sbin.
// Without it t is skipped, or fails when PHOENIX_REQUIRE_TOOLS=1; pkg is
// the Debian package that installs it, for the message.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p, err := exec.LookPath(filepath.Join("/usr/sbin", name)); err == nil {
		return p
	}
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatalf("%s is required (%s=1): apt-get install %s", name, requireToolsEnv, pkg)
	}
	t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	return ""
}
