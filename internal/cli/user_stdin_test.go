package cli

import (
	"testing"
)

// TestPasswordPromptsReadTheirOwnStdin: each command reads its password
// from its own stdin. The line reader was made once per process, from the
// first command's stdin, so a second command in the same process (a test,
// or a program embedding the CLI) read the first one's leftovers: here
// nothing, "no password on stdin".
func TestPasswordPromptsReadTheirOwnStdin(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	var seen []string
	for _, name := range []string{"alice", "bob"} {
		if r := phx(&seen, "pw-of-"+name+"-long-enough\n", "user", "add", name, "--role", "viewer", "--password", "--data", data); r.code != 0 {
			t.Fatalf("user add %s --password: exit %d: %s", name, r.code, r.err)
		}
	}
}
