package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/phoenixvc/phoenix/internal/api"
)

const keyPrompt, confirmPrompt = "Vault master key or passphrase: ", "Again, to confirm: "

// sealedForLister is what a caller who may list secrets but not unseal
// the vault is told of a sealed vault.
const sealedForLister = "error: vault is sealed; run phoenix vault unseal\n" +
	"hint: unsealing needs vault.manage: ask someone who has it to run 'phoenix vault unseal'\n"

// TestSecretCommandAsksForTheKeyOnlyWhoMayUnseal: a 'phoenix secret'
// command given no master key, on a terminal, against a sealed vault, asked
// for the passphrase before the server had checked the caller's
// permission: a viewer typed the master key only to be told 403
// secrets.list, and a caller who may list but not unseal typed it only to
// be told the vault is sealed (the key was sent to the server either way).
// Now the command's request goes first, and the prompt comes only when the
// server says the vault is sealed and the caller may unseal it. The
// commands run as their own processes on a terminal of their own. The
// lister is not told to give the master key either (the server's hint),
// which they may not use.
func TestSecretCommandAsksForTheKeyOnlyWhoMayUnseal(t *testing.T) {
	if args := os.Getenv("PHOENIX_TEST_PROMPT_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			t.Fatal(err)
		}
		os.Exit(Main(argv, os.Stdin, os.Stdout, os.Stderr))
	}
	if docs, err := os.ReadFile("../../docs/vault.md"); err != nil || !strings.Contains(string(docs), "```\n"+sealedForLister+"```\n") {
		t.Errorf("docs/vault.md does not quote what is printed (%v):\n%s", err, sealedForLister)
	}
	data, keyFile, a := startVaultServer(t)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	token := func(args ...string) string {
		t.Helper()
		r := phx(&seen, "", append([]string{"token", "create", "-o", "json", "--data", data}, args...)...)
		var tok api.TokenResponse
		if r.code != 0 || json.Unmarshal([]byte(r.out), &tok) != nil || tok.Secret == "" {
			t.Fatalf("token create %v: exit %d: %s%s", args, r.code, r.out, r.err)
		}
		return tok.Secret
	}
	viewer := viewerToken(t, data)
	lister := token("--name", "lister", "--scope", "secrets.list")     // may list, may not unseal
	unsealer := token("--name", "unsealer", "--scope", "vault.manage") // may unseal, may not list
	if r := phx(&seen, "k1-value-of-the-test", "secret", "set", "API_KEYS", "--data", data); r.code != 0 {
		t.Fatalf("secret set: exit %d: %s", r.code, r.err)
	}

	for _, c := range []struct {
		name, token, want string
	}{
		{"viewer", viewer, "error: permission denied: secrets.list on the server\n"},
		{"secrets.list without vault.manage", lister, sealedForLister},
		{"vault.manage without secrets.list", unsealer, "error: permission denied: secrets.list on the server: token "}, // its scope refuses (auth.Require)
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
				t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
			}
			out, code := onTerminal(t, "not the master key, typed in vain", "secret", "list", "--data", data, "--token", c.token)
			if strings.Contains(out, keyPrompt) || code != 1 || !strings.HasPrefix(out, c.want) {
				t.Errorf("secret list on a terminal: exit %d:\n%s\nwant exit 1, no prompt for the key, and %q", code, out, c.want)
			}
			if !a.Vault.Sealed() {
				t.Error("the vault was unsealed")
			}
		})
	}
	// Given the key, the lister may not use it either: the hint does not
	// tell them to give it.
	t.Setenv(masterKeyFileEnv, keyFile)
	if r := phx(&seen, "", "secret", "list", "--data", data, "--token", lister); r.code != 1 || r.err != sealedForLister || !a.Vault.Sealed() {
		t.Errorf("secret list by the lister given the key: exit %d (sealed %v):\n%s\nwant exit 1:\n%s", r.code, a.Vault.Sealed(), r.err, sealedForLister)
	}
	t.Setenv(masterKeyFileEnv, "")

	// The admin is asked, and the typed key unseals the vault.
	if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
		t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
	}
	out, code := onTerminal(t, strings.TrimSpace(string(key)), "secret", "list", "--data", data)
	if !strings.HasPrefix(out, keyPrompt) || code != 0 || !strings.Contains(out, "API_KEYS") || a.Vault.Sealed() {
		t.Errorf("secret list by the admin on a terminal: exit %d (sealed %v):\n%s", code, a.Vault.Sealed(), out)
	}
}

// TestVaultCommandsAskForTheKeyOnlyWhoMayUseIt: 'phoenix vault unseal'
// and 'phoenix vault init' given no master key, on a terminal, asked a
// caller without vault.manage for it (init twice) and then answered 403.
// Now the server is asked first (without a key), and such a caller is
// told the 403 at once.
func TestVaultCommandsAskForTheKeyOnlyWhoMayUseIt(t *testing.T) {
	const denied = "error: permission denied: vault.manage on the server\n"
	check := func(t *testing.T, args ...string) {
		t.Helper()
		out, code := onTerminal(t, "typed in vain", args...)
		if strings.Contains(out, keyPrompt) || code != 1 || !strings.HasPrefix(out, denied) {
			t.Errorf("on a terminal: exit %d:\n%s\nwant exit 1, no prompt for the key, and %q", code, out, denied)
		}
	}
	t.Run("unseal", func(t *testing.T) {
		data, _, a := startVaultServer(t)
		var seen []string
		tok := viewerToken(t, data)
		if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
			t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
		}
		check(t, "vault", "unseal", "--data", data, "--token", tok)
		if !a.Vault.Sealed() {
			t.Error("the vault was unsealed")
		}
	})
	t.Run("rekey", func(t *testing.T) {
		data, _, _ := startVaultServer(t)
		newFile := filepath.Join(t.TempDir(), "new.key")
		check(t, "vault", "rekey", "--data", data, "--token", viewerToken(t, data), "--generate-key-file", newFile)
		if _, err := os.Stat(newFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the viewer's rekey left a key file: %v", err)
		}
	})
	t.Run("init", func(t *testing.T) {
		noMasterKey(t)
		data := t.TempDir()
		a := startServer(t, data)
		check(t, "vault", "init", "--data", data, "--token", viewerToken(t, data))
		if st, err := a.Vault.Status(context.Background()); err != nil || st.Initialized {
			t.Errorf("vault status after the viewer's init: %+v, %v", st, err)
		}
	})
}

// onTerminal runs phoenix with args as a process of its own whose
// controlling terminal (and stdin, stdout, stderr) is a new pseudo
// terminal, types answer at each master key prompt (and its
// confirmation), and returns what the terminal showed (line ends as \n)
// and the exit code. The process is this test binary in
// TestSecretCommandAsksForTheKeyOnlyWhoMayUnseal, which runs Main with
// args when PHOENIX_TEST_PROMPT_ARGS holds them.
func onTerminal(t *testing.T, answer string, args ...string) (string, int) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecretCommandAsksForTheKeyOnlyWhoMayUnseal$")
	cmd.Env = append(os.Environ(), "PHOENIX_TEST_PROMPT_ARGS="+string(argv))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		pts.Close()
		t.Fatal(err)
	}
	pts.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	answered := 0
	for {
		k, err := ptmx.Read(buf)
		out.Write(buf[:k])
		if n := strings.Count(out.String(), keyPrompt) + strings.Count(out.String(), confirmPrompt); n > answered {
			answered = n
			io.WriteString(ptmx, answer+"\r")
		}
		if err != nil { // EIO: the process and its terminal are gone
			break
		}
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}
