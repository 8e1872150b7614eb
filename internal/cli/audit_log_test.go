package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// TestAuditLogShowsTheNewestRecords: 'phoenix audit log --limit N' on a
// log longer than N shows its newest N records, the latest on the last
// line (what an on-call engineer looks for), and says earlier ones are
// left out and how to see them.
func TestAuditLogShowsTheNewestRecords(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []string{"first", "second", "third"} {
		mustRun(t, "", "alerts", "silence", "--for", "10m", "--comment", c, "--data", data)
	}
	var seqs []int64
	for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "", "audit", "log", "-o", "json", "--data", data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, r.Seq)
	}
	if len(seqs) < 4 {
		t.Fatalf("only %d audit records", len(seqs))
	}
	out, errs, code := runVault(t, "", "audit", "log", "--limit", "2", "--data", data)
	if code != 0 {
		t.Fatalf("audit log: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 records:\n%s", out)
	}
	for i, want := range seqs[len(seqs)-2:] {
		if f := strings.Fields(lines[1+i]); f[0] != strconv.FormatInt(want, 10) {
			t.Fatalf("line %d is record %s, want %d (the newest two, oldest first):\n%s", i+1, f[0], want, out)
		}
	}
	if !strings.Contains(lines[2], "third") {
		t.Fatalf("the last line is not the latest silence:\n%s", out)
	}
	if !strings.Contains(errs, "the newest 2 records; earlier ones are not shown") || !strings.Contains(errs, "-o json") {
		t.Fatalf("stderr does not say earlier records are left out: %q", errs)
	}
}
