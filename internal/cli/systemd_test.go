package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unitFile is the systemd unit docs/operations.md installs.
const unitFile = "../../contrib/systemd/phoenix.service"

// TestSystemdUnit: every flag the unit's ExecStart gives 'phoenix server'
// exists, and systemd itself (systemd-analyze verify) accepts the unit.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(raw), "\\\n", " ")
	var exec string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	args := strings.Fields(exec)
	if len(args) < 2 || args[1] != "server" {
		t.Fatalf("ExecStart %q does not run phoenix server", exec)
	}
	server := newServerCmd(&Globals{})
	root := newRoot(&Globals{})
	for _, a := range args[2:] {
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if server.Flags().Lookup(name) == nil && root.PersistentFlags().Lookup(name) == nil {
			t.Errorf("the unit passes --%s, which phoenix server does not have", name)
		}
	}
	verifyUnit(t, string(raw), args[0])
}

// verifyUnit runs systemd-analyze verify on a copy of the unit whose
// binary is this test's (the check wants an executable there).
func verifyUnit(t *testing.T, unit, binary string) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("PHOENIX_REQUIRE_TOOLS") != "" {
			t.Fatalf("systemd-analyze not found (apt-get install systemd): %v", err)
		}
		t.Skip("systemd-analyze not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "phoenix.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, binary, self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "phoenix.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
