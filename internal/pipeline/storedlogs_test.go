package pipeline

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFinishedLogsAreStoredMasked: with a Runner (servers sharing the
// database) a finished step's log is stored compressed, its secrets
// masked, and served from the database once the file is gone (another
// server asks); without a Runner nothing is stored.
func TestFinishedLogsAreStoredMasked(t *testing.T) {
	const secret = "st0red-t0ken-Qq7!"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	for _, runner := range []string{"", "http://10.0.0.5:7070"} {
		t.Run("runner="+runner, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Runner = func() string { return runner } })
			dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - {name: main, steps: [{name: say, secrets: [DEPLOY_TOKEN], run: 'echo "token $DEPLOY_TOKEN"; echo second line'}]}
`)
			d := f.wait(f.release(dir, "1.0.0").ID)
			var gz []byte
			err := f.svc.opts.DB.QueryRow(`SELECT gz FROM pipeline_step_logs WHERE run_id = $1 AND step = 'main/say'`, d.ID).Scan(&gz)
			if runner == "" {
				if err == nil {
					t.Fatal("a lone server stored a step's log in the database")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := io.ReadAll(zr)
			if strings.Contains(string(plain), secret) || !strings.Contains(string(plain), "token ***") {
				t.Fatalf("stored log %q", plain)
			}
			if err := os.RemoveAll(filepath.Join(f.svc.runDir(d.ID), "steps")); err != nil {
				t.Fatal(err)
			}
			all := f.log(d.ID, "")
			if all != "main/say | token ***\nmain/say | second line\n" {
				t.Fatalf("logs from the database %q", all)
			}
			if one := f.log(d.ID, "main/say"); one != "token ***\nsecond line\n" {
				t.Fatalf("one step's log from the database %q", one)
			}
		})
	}
}

// TestStoredLogIsCapped: a log longer than StoredLogCap is stored cut,
// saying how much only the runner keeps.
func TestStoredLogIsCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), StoredLogCap+100), 0o600); err != nil {
		t.Fatal(err)
	}
	gz, size, err := compressLog(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(gz))
	plain, _ := io.ReadAll(zr)
	if int64(len(plain)) != size || !strings.HasSuffix(string(plain), "[phoenix: 100 more bytes of this log are only on the server that ran it]\n") ||
		!bytes.HasPrefix(plain, bytes.Repeat([]byte("x"), StoredLogCap)) {
		t.Fatalf("stored %d bytes, ending %q", len(plain), plain[len(plain)-80:])
	}
}

// TestMissingLogIsSaid: a step that wrote a log this server has neither as
// a file nor in the database (a lone server stores none; its run asked of
// another server, or the file lost) is named with a note, not printed as
// if it had written nothing.
func TestMissingLogIsSaid(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - {name: main, steps: [{name: say, run: 'echo hello'}, {name: quiet, run: 'true'}]}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	if err := os.RemoveAll(filepath.Join(f.svc.runDir(d.ID), "steps")); err != nil {
		t.Fatal(err)
	}
	all := f.log(d.ID, "")
	if !strings.HasPrefix(all, "main/say | [phoenix: this step's log (6 bytes) is neither on this server nor stored in the database") ||
		strings.Contains(all, "main/quiet") {
		t.Fatalf("logs of a run whose log files are gone: %q", all)
	}
	if one := f.log(d.ID, "main/say"); !strings.HasPrefix(one, "[phoenix: this step's log (6 bytes)") {
		t.Fatalf("one step's log: %q", one)
	}
}
