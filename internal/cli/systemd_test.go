package cli

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// unitFile is the systemd unit docs/operations.md installs.
const unitFile = "../../contrib/systemd/phoenix.service"

// TestSystemdUnit: every flag the unit's ExecStart gives 'phoenix server'
// exists, and systemd itself (systemd-analyze verify) accepts the unit.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
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
	verifyUnits(t, args[0])
}

// TestSystemdSocketUnits: the socket units name their sockets as the
// server asks for them (app.SocketAPI...), each unit its own name, and the
// drop-in hands the service every one of them.
func TestSystemdSocketUnits(t *testing.T) {
	t.Parallel()
	sockets, _ := filepath.Glob("../../contrib/systemd/*.socket")
	if len(sockets) == 0 {
		t.Fatal("no socket units in contrib/systemd")
	}
	dropIn, err := os.ReadFile("../../contrib/systemd/phoenix.service.d/sockets.conf")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range sockets {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := ""
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "FileDescriptorName="); ok {
				name = v
			}
		}
		if name != app.SocketAPI && name != app.SocketEdge && name != app.SocketEdgeTLS || seen[name] {
			t.Errorf("%s: FileDescriptorName=%q; want one of api, edge, edge-tls, once", f, name)
		}
		seen[name] = true
		if !strings.Contains(string(dropIn), "Sockets=") || !strings.Contains(string(dropIn), filepath.Base(f)) {
			t.Errorf("phoenix.service.d/sockets.conf does not hand the service %s", filepath.Base(f))
		}
	}
}

// verifyUnits runs systemd-analyze verify on a copy of contrib/systemd (the
// service, its drop-ins and the socket units) whose binary is this test's
// (the check wants an executable there); a warning about any of them fails.
func verifyUnits(t *testing.T, binary string) {
	tool := testkit.RequireTool(t, "systemd-analyze", "systemd")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, dir := "../../contrib/systemd", t.TempDir()
	var units []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if filepath.Dir(rel) == "." {
			units = append(units, dst)
		}
		return os.WriteFile(dst, []byte(strings.ReplaceAll(string(raw), binary, self)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || strings.Contains(string(out), dir) {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdBackupDropIn: the backup drop-in sets server flags through
// their variables, hands the service the backup key as a credential (root's
// key file is not the service user's to read) and makes the repository
// writable, which ProtectSystem=strict otherwise leaves read-only.
func TestSystemdBackupDropIn(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../contrib/systemd/phoenix.service.d/backup.conf")
	if err != nil {
		t.Fatal(err)
	}
	server := newServerCmd(&Globals{})
	vars := map[string]bool{}
	server.Flags().VisitAll(func(f *pflag.Flag) { vars[envName(f.Name)] = true })
	env := map[string]string{}
	var creds, writable []string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			k, val, _ := strings.Cut(v, "=")
			if !vars[k] {
				t.Errorf("Environment=%s: phoenix server reads no such variable", k)
			}
			env[k] = val
		}
		if v, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			creds = append(creds, v)
		}
		if v, ok := strings.CutPrefix(line, "ReadWritePaths="); ok {
			writable = append(writable, strings.Fields(v)...)
		}
	}
	repo, key := env["PHOENIX_BACKUP_REPO"], env["PHOENIX_BACKUP_KEY_FILE"]
	if repo == "" || !slices.Contains(writable, repo) {
		t.Errorf("the repository %q is not in ReadWritePaths %v", repo, writable)
	}
	name, ok := strings.CutPrefix(key, "%d/")
	if !ok || !slices.ContainsFunc(creds, func(c string) bool { return strings.HasPrefix(c, name+":") }) {
		t.Errorf("PHOENIX_BACKUP_KEY_FILE=%q is not a credential of LoadCredential %v", key, creds)
	}
}
