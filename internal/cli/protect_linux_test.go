package cli

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The server (and an in-process one) is not dumpable: steps running as
// the same user cannot read its environment or memory through /proc.
func TestProtectProcessMakesTheServerNotDumpable(t *testing.T) {
	if err := protectProcess(); err != nil {
		t.Fatal(err)
	}
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		t.Fatalf("dumpable = %d (%v), want 0", d, err)
	}
}
