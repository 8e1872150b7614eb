package swa

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oracleRecord is one line of testdata/oracle/<site>.jsonl, written by the
// SWA CLI emulator probe (testdata/oracle/run.sh).
type oracleRecord struct {
	ID         string            `json:"id"`
	Status     int               `json:"status"`
	Location   *string           `json:"location"`
	Headers    map[string]string `json:"headers"`
	BodyLength int               `json:"body_length"`
	BodySHA256 string            `json:"body_sha256"`
	Error      string            `json:"error"`
}

func loadOracle(t *testing.T, site string) map[string]oracleRecord {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "oracle", site+".jsonl"))
	if err != nil {
		t.Fatalf("no recorded oracle results for %s (run testdata/oracle/run.sh): %v", site, err)
	}
	defer f.Close()
	out := map[string]oracleRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r oracleRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", site, err)
		}
		out[r.ID] = r
	}
	return out
}

func fileSHA(t *testing.T, site, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sites", site, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// diffOracle lists how Decide's answer differs from the emulator's.
func diffOracle(t *testing.T, site string, c *confCase, d Decision, o oracleRecord) []string {
	var diffs []string
	if o.Error != "" {
		return []string{"probe error: " + o.Error}
	}
	if d.Status != o.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, emulator %d", d.Status, o.Status))
	}
	loc := ""
	if o.Location != nil {
		loc = *o.Location
	}
	if d.Status >= 300 && d.Status < 400 && d.Location != loc {
		diffs = append(diffs, fmt.Sprintf("location %q, emulator %q", d.Location, loc))
	}
	if d.File != "" && c.Method != "HEAD" && d.Status != 204 && fileSHA(t, site, d.File) != o.BodySHA256 {
		diffs = append(diffs, fmt.Sprintf("body of %s differs from the emulator's (%d bytes)", d.File, o.BodyLength))
	}
	if d.ContentType != "" && d.ContentType != o.Headers["content-type"] {
		diffs = append(diffs, fmt.Sprintf("content-type %q, emulator %q", d.ContentType, o.Headers["content-type"]))
	}
	if d.Status >= 200 && d.Status < 300 {
		for name := range c.Expect.Headers {
			name = strings.ToLower(name)
			if name == "content-type" {
				continue
			}
			if got, want := d.Header.Get(name), o.Headers[name]; got != want {
				diffs = append(diffs, fmt.Sprintf("header %s %q, emulator %q", name, got, want))
			}
		}
	}
	return diffs
}

// TestOracle compares Decide with the recorded emulator answers for every
// case marked "same" (where the spec says the emulator matches the cloud).
func TestOracle(t *testing.T) {
	compared := 0
	for _, cf := range loadCases(t) {
		cfg, files := loadSite(t, cf.Site)
		recs := loadOracle(t, cf.Site)
		for _, c := range cf.Cases {
			o, ok := recs[c.ID]
			if !ok {
				t.Errorf("%s/%s: no oracle record; re-run testdata/oracle/run.sh", cf.Site, c.ID)
				continue
			}
			d := cfg.Decide(c.request(t), files)
			diffs := diffOracle(t, cf.Site, &c, d, o)
			if c.Emulator != "same" {
				if len(diffs) == 0 {
					t.Logf("%s/%s: marked %q but agrees with the emulator on what is compared", cf.Site, c.ID, c.Emulator)
				}
				continue
			}
			compared++
			if len(diffs) > 0 {
				t.Errorf("%s/%s (%s %s): %s", cf.Site, c.ID, c.Method, c.Path, strings.Join(diffs, "; "))
			}
		}
	}
	if compared < 100 {
		t.Fatalf("only %d cases compared with the emulator", compared)
	}
	t.Logf("%d cases agree with the emulator", compared)
}
