package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// usageArgs makes the argument checks of every command under c that is not
// a group (strictGroups handles those) return usage errors that name the
// command and show its usage line, instead of cobra's bare "accepts 1
// arg(s), received 0".
func usageArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
	check := c.Args
	if check == nil || c.HasSubCommands() {
		return
	}
	c.Args = func(c *cobra.Command, args []string) error {
		err := check(c, args)
		var ue *usererr.Error
		if err == nil || errors.As(err, &ue) {
			return err
		}
		msg := c.CommandPath() + ": " + err.Error()
		if strings.HasPrefix(err.Error(), "unknown command") { // cobra.NoArgs
			msg = fmt.Sprintf("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))
		}
		return usererr.Wrap(usererr.Usage, err, msg).
			WithHint("usage: %s; see '%s --help'", c.UseLine(), c.CommandPath())
	}
}

// goParseError matches the parse errors of strconv and time that pflag
// puts in its messages about flag values.
var goParseError = regexp.MustCompile(`(strconv\.Parse(Int|Uint|Float|Bool): parsing "[^"]*": (invalid syntax|value out of range)|time: (invalid|unknown unit|missing unit)[^"]*"[^"]*"( in duration "[^"]*")?)$`)

// flagError is the usage error for a flag cobra or pflag refused, with Go's
// parse errors put in words and a hint naming the command's help.
func flagError(cmd *cobra.Command, err error) error {
	return usererr.Wrap(usererr.Usage, err, plainParseError(err.Error())).WithHint("see '%s --help'", cmd.CommandPath())
}

// plainParseError is msg with a parse error of Go's at its end put in
// words: "...: want a whole number" for "...: strconv.ParseInt: parsing
// \"abc\": invalid syntax".
func plainParseError(msg string) string {
	if m := goParseError.FindStringSubmatch(msg); m != nil {
		return strings.TrimSuffix(msg, m[0]) + parseWant(m[1])
	}
	return msg
}

// parseWant says what a flag value that failed Go's parse error e should be.
func parseWant(e string) string {
	switch {
	case strings.Contains(e, "value out of range"):
		return "number out of range"
	case strings.HasPrefix(e, "strconv.ParseInt"), strings.HasPrefix(e, "strconv.ParseUint"):
		return "want a whole number"
	case strings.HasPrefix(e, "strconv.ParseFloat"):
		return "want a number"
	case strings.HasPrefix(e, "strconv.ParseBool"):
		return "want true or false"
	}
	return fmt.Sprintf("want a duration such as %s", "30s, 5m, 2h or 7d")
}

// joinNames joins names as a sentence does: "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// example writes value given to what, a flag or a PHOENIX_* variable as
// flagOrEnv names it, for hints: "--limit 50", "PHOENIX_LIMIT=50".
func example(what, value string) string {
	if strings.HasPrefix(what, "PHOENIX_") {
		return what + "=" + value
	}
	return what + " " + value
}

// needs agrees with n things: "needs" or "need".
func needs(n int) string {
	if n == 1 {
		return "needs"
	}
	return "need"
}

// flagSet is a flag and whether it is set.
type flagSet struct {
	flag string
	set  bool
}

// namesOfSet names (by name) the flags of fs that are set, in fs's order.
func namesOfSet(name func(flag string) string, fs []flagSet) []string {
	var names []string
	for _, f := range fs {
		if f.set {
			names = append(names, name(f.flag))
		}
	}
	return names
}

// checkLimit refuses a --limit below 1, which would show nothing or,
// for some commands, everything. The error names what gave the value:
// --limit, or PHOENIX_LIMIT.
func (g *Globals) checkLimit(limit int) error {
	if limit < 1 {
		return usererr.New(usererr.Usage, "%s %d: want a positive number", g.flagOrEnv("limit"), limit).WithHint("e.g. %s50", setting(g.flagOrEnv("limit")))
	}
	return nil
}

// pathArg checks that the file or folder path the user gave (what: "key
// file", "artifact file") exists and may be read: a usage error that says
// which and why otherwise, not Go's "stat PATH: no such file or
// directory".
func pathArg(what, path string) error {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s does not exist", what, path))
	case errors.Is(err, fs.ErrPermission):
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s: permission denied", what, path))
	}
	return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s cannot be read", what, path))
}

// openArg opens the file the user gave (what as for pathArg), with
// pathArg's usage errors when it cannot.
func openArg(what, path string) (*os.File, error) {
	if err := pathArg(what, path); err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s cannot be read", what, path))
	}
	return fh, nil
}

// loadKeyFile reads a master or backup key file the user gave, every
// problem (none there, a mode others may read) a usage error.
func loadKeyFile(path string) (vault.Secret, error) {
	if err := pathArg("key file", path); err != nil {
		return vault.Secret{}, err
	}
	key, err := vault.LoadMasterKeyFile(path)
	if err != nil {
		return key, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	return key, nil
}

// checkTLSFiles checks that the certificate and key files of the flags
// cert and key exist (when given), before a server starts on them.
func checkTLSFiles(certFlag, cert, keyFlag, key string) error {
	for _, f := range [][2]string{{certFlag, cert}, {keyFlag, key}} {
		if f[1] == "" {
			continue
		}
		if err := pathArg(f[0], f[1]); err != nil {
			return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("give a PEM certificate chain and its PEM private key")
		}
	}
	return nil
}

// checkTLSPairs checks repeated certificate and key flags: each file
// given is there (named first: a missing file is the likelier slip), and
// there are as many keys as certificates (pairs in the same order).
func checkTLSPairs(certFlag string, certs []string, keyFlag string, keys []string) error {
	for _, c := range certs {
		if err := checkTLSFiles(certFlag, c, keyFlag, ""); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := checkTLSFiles(certFlag, "", keyFlag, k); err != nil {
			return err
		}
	}
	if len(certs) != len(keys) {
		return usererr.New(usererr.Usage, "%s given %d time(s), %s %d: give one key for each certificate, in the same order",
			certFlag, len(certs), keyFlag, len(keys)).
			WithHint("--edge-tls-cert a.pem --edge-tls-key a.key --edge-tls-cert b.pem --edge-tls-key b.key")
	}
	return nil
}

// outArg checks that the file the flag names can be written where it is:
// its folder exists and is a folder. The usage error names the flag and
// the folder, not Go's "open PATH: no such file or directory".
func outArg(flag, path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s: folder %s does not exist", flag, path, dir)).
			WithHint("make it first, or write somewhere else")
	case err != nil:
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s: folder %s cannot be read", flag, path, dir))
	case !fi.IsDir():
		return usererr.New(usererr.Usage, "%s %s: %s is not a folder", flag, path, dir)
	}
	return nil
}

// checkServerURL refuses a --server that is not an http(s) URL with a
// host, which would fail later as "cannot reach the phoenix server".
func checkServerURL(flag, server string) error {
	if server == "" {
		return nil
	}
	u, err := url.Parse(server)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return usererr.New(usererr.Usage, "%s %q: want the URL of a phoenix server", flag, server).
		WithHint("e.g. %shttps://phoenix.example.com (or http://127.0.0.1:7070)", setting(flag))
}

// setting is how a hint writes a value given to name (Globals.flagOrEnv)
// before the value: "--server " for a flag, "PHOENIX_SERVER=" for a
// variable.
func setting(name string) string {
	if strings.HasPrefix(name, "--") {
		return name + " "
	}
	return name + "="
}
