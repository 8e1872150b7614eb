package cli

import (
	"strings"
	"testing"
)

// TestUserDisableCommand: disable marks the user in the listing, enable
// takes the mark away, and the last admin cannot be disabled (exit 1
// with the hint).
func TestUserDisableCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, "", "user", "add", "alice", "--role", "contributor", "--data", data)
	if out := mustRun(t, "", "user", "disable", "alice", "--data", data); !strings.Contains(out, "alice (disabled)") {
		t.Fatalf("disable said %q", out)
	}
	if out := mustRun(t, "", "user", "list", "--data", data); !strings.Contains(out, "alice (disabled)") {
		t.Fatalf("list said %q", out)
	}
	if out := mustRun(t, "", "user", "enable", "alice", "--data", data); strings.Contains(out, "disabled") {
		t.Fatalf("enable said %q", out)
	}
	_, errs, code := runVault(t, "", "user", "disable", "admin", "--data", data) // made at the first start
	if code == 0 || !strings.Contains(errs, "last enabled admin") || !strings.Contains(errs, "phoenix user grant OTHER admin") {
		t.Fatalf("disabling the last admin: exit %d: %s", code, errs)
	}
}
