package backup

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	goodDigest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	testSnapID = "1a2b3c4d5e6f"
)

// snapJSON is a snapshot with one entry at path p and extra entry fields.
func snapJSON(p, extra string) string {
	return fmt.Sprintf(`{"time":"2025-01-01T00:00:00Z","host":"h","version":"v","size":1,"added":1,"count":2,
		"files":[{"path":"ok","mode":384,"size":1,"digest":%q,"object":%q},
		{"path":%q,"mode":384,"size":1,"digest":%q,"object":%q%s}]}`,
		goodDigest, goodDigest, p, goodDigest, goodDigest, extra)
}

func TestParseSnapshot(t *testing.T) {
	if s, err := parseSnapshot(testSnapID, []byte(snapJSON("keys/a.key", ""))); err != nil || s.ID != testSnapID || len(s.Files) != 2 {
		t.Fatalf("good snapshot: %+v, %v", s, err)
	}
	cases := map[string]struct{ json, want string }{
		"dot-dot":               {snapJSON("../x", ""), `files[1].path "../x": must stay inside the data dir`},
		"absolute":              {snapJSON("/etc/passwd", ""), "must stay inside"},
		"inner dot-dot":         {snapJSON("a/../../x", ""), "must be clean"},
		"unclean":               {snapJSON("a//b", ""), "must be clean"},
		"dot":                   {snapJSON(".", ""), "must name a file"},
		"empty path":            {snapJSON("", ""), "must name a file"},
		"backslash":             {snapJSON(`a\\..\\..\\x`, ""), "backslash"},
		"nul":                   {snapJSON("a\\u0000b", ""), "NUL"},
		"duplicate":             {snapJSON("ok", ""), "listed twice"},
		"nested":                {snapJSON("ok/below", ""), `its parent "ok" is a file`},
		"setuid":                {strings.Replace(snapJSON("x", ""), `"mode":384,"size":1,"digest":"sha256:ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12","object":"sha256:ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"}]`, `"mode":8388608,"size":1,"digest":"`+goodDigest+`","object":"`+goodDigest+`"}]`, 1), "only permission bits"},
		"unknown field":         {snapJSON("x", `,"owner":"root"`), "unknown field"},
		"trailing":              {snapJSON("x", "") + "{}", "trailing data"},
		"no time":               {`{"files":[]}`, "time: missing"},
		"member after the list": {`{"time":"2025-01-01T00:00:00Z","files":[],"host":"later"}`, "head and its body disagree"},
		"null":                  {`null`, "time: missing"},
		"negative":              {strings.Replace(snapJSON("x", ""), `"size":1,"added"`, `"size":-1,"added"`, 1), "must not be negative"},
		"bad digest":            {strings.Replace(snapJSON("x", ""), goodDigest, "sha256:AB", 1), "digest"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseSnapshot(testSnapID, []byte(c.json))
			if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "snapshot 1a2b3c4d: ") {
				t.Errorf("err = %v, want one naming the snapshot and containing %q", err, c.want)
			}
		})
	}
}

func TestExcluded(t *testing.T) {
	for rel, want := range map[string]bool{
		"phoenix.lock": true, "lock": true, "server.json": true, "server.json.tmp": true,
		"server-info": true, "server-info.json": true, "state.db-wal": true, "state.db-shm": true,
		"state.db-journal": true, ".tmp-x": true, "blobs/sha256/ab/.tmp-abc-1": true,
		"state.db": false, "admin.token": false, "roles.yaml": false, "keys/signing.key": false,
		"keys/audit.checkpoint": true, "keys/audit.pub": false, "x/keys/audit.checkpoint": false,
		"runs/1/cargo.lock": false, "runs/lock": false, "runs/server.json": false, "tools": true, "runs/tools": false,
	} {
		if got := excluded(rel); got != want {
			t.Errorf("excluded(%q) = %v, want %v", rel, got, want)
		}
	}
}
