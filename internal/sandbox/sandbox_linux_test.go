//go:build linux

package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// requireLandlock skips where the kernel cannot confine (the reason is
// logged); everywhere else the tests run the real thing.
func requireLandlock(t *testing.T) int {
	t.Helper()
	abi, err := Available()
	if err != nil {
		t.Skip(err)
	}
	return abi
}

// tree is a data dir as the server has it, beside a project.
type tree struct{ root, data, work, tools, project string }

func newTree(t *testing.T) tree {
	t.Helper()
	root := t.TempDir()
	tr := tree{root: root, data: filepath.Join(root, "data"), project: filepath.Join(root, "project")}
	tr.work = filepath.Join(tr.data, "runs", "1", "work")
	tr.tools = filepath.Join(tr.data, "tools")
	for path, body := range map[string]string{
		filepath.Join(tr.data, "state.db"):            "the server's state",
		filepath.Join(tr.data, "runs", "2", "secret"): "another run's file",
		filepath.Join(tr.work, "src.txt"):             "source",
		filepath.Join(tr.tools, "tool.sh"):            "#!/bin/sh\necho tool ran\n",
		filepath.Join(tr.project, "package.json"):     "{}",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func (tr tree) policy() Policy {
	return Policy{Hidden: []string{tr.data}, Open: []string{tr.work, tr.project},
		ReadOnly: []string{tr.tools}}
}

// sh runs script confined by p and returns its output and whether it
// exited 0.
func sh(t *testing.T, p Policy, script string) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := Start(cmd, p); err != nil {
		t.Fatalf("Start: %v", err)
	}
	err := cmd.Wait()
	return out.String(), err == nil
}

func TestHiddenPathsAreUnreachable(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	for _, script := range []string{
		"cat " + filepath.Join(tr.data, "state.db"),
		"ls " + tr.data,
		"cat " + filepath.Join(tr.data, "runs", "2", "secret"),
		"echo planted > " + filepath.Join(tr.data, "runs", "2", "new"),
		"rm " + filepath.Join(tr.data, "state.db"),
		"mv " + filepath.Join(tr.work, "src.txt") + " " + filepath.Join(tr.data, "moved"),
		"echo changed > " + filepath.Join(tr.tools, "tool.sh"),
		"touch " + filepath.Join(tr.root, "new-beside-the-data-dir"), // a folder on the way to a hidden path: documented
	} {
		if out, ok := sh(t, tr.policy(), script); ok {
			t.Errorf("%s: succeeded in the sandbox (%q)", script, out)
		} else if !strings.Contains(out, "ermission denied") && !strings.Contains(out, "not permitted") {
			t.Errorf("%s: failed, but not for permission: %q", script, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(tr.data, "state.db")); err != nil || string(b) != "the server's state" {
		t.Errorf("state.db after the attempts: %q, %v", b, err)
	}
}

func TestOpenAndReadOnlyPaths(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	script := strings.Join([]string{
		"cat " + filepath.Join(tr.work, "src.txt"),
		"mkdir -p " + filepath.Join(tr.work, "node_modules/.bin"),
		"echo built > " + filepath.Join(tr.work, "node_modules/out"),
		"mv " + filepath.Join(tr.work, "node_modules/out") + " " + filepath.Join(tr.work, "dist"),
		filepath.Join(tr.tools, "tool.sh"),
		"echo edited > " + filepath.Join(tr.project, "package.json"),
		"mkdir " + filepath.Join(tr.project, "dist"),
		"cat /etc/hostname >/dev/null",
		"t=$(mktemp -p " + tr.work + ") && rm $t",
	}, " && ")
	out, ok := sh(t, tr.policy(), script)
	if !ok {
		t.Fatalf("a step's ordinary work failed in the sandbox: %s", out)
	}
	if !strings.Contains(out, "tool ran") {
		t.Errorf("output %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(tr.work, "dist")); string(b) != "built\n" {
		t.Errorf("dist = %q", b)
	}
}

func TestTheServerIsOutOfReach(t *testing.T) {
	abi := requireLandlock(t)
	tr := newTree(t)
	// This test process is the confined shell's parent: root here, so
	// only Landlock stands between the shell and its memory. (Its
	// environment, /proc/PID/environ, Landlock does not guard: the server
	// is non-dumpable and scrubs its keys from it, internal/cli.)
	if out, ok := sh(t, tr.policy(), "head -c 16 /proc/$PPID/mem"); ok {
		t.Errorf("read the server's memory (%d bytes)", len(out))
	}
	if abi >= 6 {
		if out, ok := sh(t, tr.policy(), "kill -0 $PPID"); ok {
			t.Errorf("kill -0 $PPID succeeded: %s", out)
		}
	}
	if out, ok := sh(t, tr.policy(), "cat /proc/self/status >/dev/null && sh -c 'kill -0 $PPID'"); !ok {
		t.Errorf("a step could not look at itself or signal its own child's parent: %s", out)
	}
}

// TestTheServerStaysUnconfined: confining one step's thread must not
// leak into the server's other threads.
func TestTheServerStaysUnconfined(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, ok := sh(t, tr.policy(), "true"); !ok {
				t.Error("true failed")
			}
		})
	}
	wg.Wait()
	for range 64 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if _, err := os.ReadFile(filepath.Join(tr.data, "state.db")); err != nil {
				t.Errorf("the server cannot read its own state.db after confining steps: %v", err)
			}
		})
	}
	wg.Wait()
	// A process started the ordinary way afterwards is not confined either.
	if out, err := exec.Command("cat", filepath.Join(tr.data, "state.db")).CombinedOutput(); err != nil {
		t.Errorf("an unconfined child: %v %s", err, out)
	}
}

// TestAWorkspaceHoldingAHiddenPathIsRefused: Landlock could only give
// such a workspace its present entries (no new dist/), so Start refuses
// and says why.
func TestAWorkspaceHoldingAHiddenPathIsRefused(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	p := Policy{Hidden: []string{filepath.Join(tr.project, ".phoenix")}, Open: []string{tr.project}}
	err := Start(exec.Command("true"), p)
	if err == nil || !strings.Contains(err.Error(), tr.project+" holds "+filepath.Join(tr.project, ".phoenix")) {
		t.Fatalf("Start = %v", err)
	}
}

// TestAHiddenFileUnderAnotherName: a hard link to a hidden key file,
// beside it, is the same file: not allowed either. (A bind mount of the
// data dir or of a folder holding it is caught the same way.)
func TestAHiddenFileUnderAnotherName(t *testing.T) {
	requireLandlock(t)
	dir := t.TempDir()
	key, link := filepath.Join(dir, "master.key"), filepath.Join(dir, "master.key.bak")
	if err := os.WriteFile(key, []byte("a master key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(key, link); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "other"), []byte("other"), 0o600)
	p := Policy{Hidden: []string{key}}
	if out, ok := sh(t, p, "cat "+link); ok {
		t.Errorf("read the hidden key through its hard link: %q", out)
	}
	if out, ok := sh(t, p, "cat "+filepath.Join(dir, "other")); !ok {
		t.Errorf("the file beside it: %s", out)
	}
}

// TestFolderCacheSeesChanges: the entries of the folders on the way to a
// hidden path are cached between steps; an entry added after a step
// (a project checked out beside the data dir) is allowed to the next, and
// one replaced by a hard link to a hidden key file is not.
func TestFolderCacheSeesChanges(t *testing.T) {
	requireLandlock(t)
	root := t.TempDir()
	key := filepath.Join(root, "master.key")
	os.WriteFile(key, []byte("a master key"), 0o600)
	p := Policy{Hidden: []string{key}}
	if _, ok := sh(t, p, "true"); !ok {
		t.Fatal("first step failed")
	}
	added := filepath.Join(root, "project")
	os.Mkdir(added, 0o755)
	os.WriteFile(filepath.Join(added, "package.json"), []byte("{}"), 0o644)
	if out, ok := sh(t, p, "cat "+filepath.Join(added, "package.json")); !ok {
		t.Errorf("a folder added after the first step: %s", out)
	}
	other := filepath.Join(root, "notes")
	os.WriteFile(other, []byte("notes"), 0o644)
	if out, ok := sh(t, p, "cat "+other); !ok {
		t.Errorf("a file added after the first step: %s", out)
	}
	os.Remove(other)
	if err := os.Link(key, other); err != nil {
		t.Fatal(err)
	}
	if out, ok := sh(t, p, "cat "+other); ok {
		t.Errorf("read the key through a hard link put where a cached entry was: %q", out)
	}
}
