package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/backup"
)

// serversRepo makes a repository holding, oldest first, a snapshot that
// records no server, one of production (server bbbbbbbbbbbb) and a newer
// one of a restore drill (aaaaaaaaaaaa); each data dir holds whose.txt
// naming it. It returns the repository and production's data dir.
func serversRepo(t *testing.T, key string) (string, string) {
	t.Helper()
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "repo")
	r, err := backup.Init(ctx, repo, []byte(key), backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var prod string
	t0 := time.Now().Add(-time.Hour)
	for i, who := range []string{"", "bbbbbbbbbbbb", "aaaaaaaaaaaa"} {
		data := t.TempDir()
		if err := os.WriteFile(filepath.Join(data, "whose.txt"), []byte("server "+who), 0o600); err != nil {
			t.Fatal(err)
		}
		if who == "bbbbbbbbbbbb" {
			prod = data
			if err := os.WriteFile(filepath.Join(data, backup.ServerIDFile), []byte(who+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		if _, err := r.Create(ctx, backup.CreateOptions{DataDir: data, Server: who, Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
	}
	return repo, prod
}

// TestRestoreLatestIsThisServers is F4 of the s26 dogfood: 'restore
// latest' restored whichever server backed up last (a restore drill).
// It is now the newest of the server whose data dir --data is; with
// several servers and none of them this one it is refused, naming them;
// --from and --any say which otherwise.
func TestRestoreLatestIsThisServers(t *testing.T) {
	const key = "a backup key for this test only"
	repo, prod := serversRepo(t, key)
	keyFile := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		whose string // "" : refused
	}{
		{"this data dir's", []string{"--data", prod}, "server bbbbbbbbbbbb"},
		{"ambiguous", []string{"--data", t.TempDir()}, ""},
		{"from", []string{"--data", t.TempDir(), "--from", "aaaaaaaaaaaa"}, "server aaaaaaaaaaaa"},
		{"any", []string{"--data", prod, "--any"}, "server aaaaaaaaaaaa"},
		{"from none", []string{"--data", prod, "--from", "none"}, "server "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "restored")
			var out, errb bytes.Buffer
			args := append([]string{"backup", "restore", "latest", "--repo", repo, "--key-file", keyFile, "--to", to}, tc.args...)
			code := Main(args, nil, &out, &errb)
			if tc.whose == "" {
				if code != 2 || !strings.Contains(errb.String(), "aaaaaaaaaaaa") || !strings.Contains(errb.String(), "bbbbbbbbbbbb") || !strings.Contains(errb.String(), "--from") {
					t.Fatalf("exit %d, stderr %s; want a usage error naming both servers and --from", code, errb.String())
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			b, err := os.ReadFile(filepath.Join(to, "whose.txt"))
			if err != nil || string(b) != tc.whose {
				t.Fatalf("restored %q (%v), want %q; stderr %s", b, err, tc.whose, errb.String())
			}
			if !strings.Contains(errb.String(), "latest: snapshot ") {
				t.Errorf("stderr does not say which snapshot latest is: %s", errb.String())
			}
			if _, err := os.Stat(filepath.Join(to, backup.ServerIDFile)); err == nil {
				t.Error("the restored data dir has the server's identity: it would be the same server")
			}
		})
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"backup", "list", "--repo", repo, "--key-file", keyFile}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "SERVER") ||
		!strings.Contains(out.String(), "aaaaaaaaaaaa") || !strings.Contains(out.String(), "bbbbbbbbbbbb") {
		t.Errorf("list: exit %d, %s%s; want a SERVER column with both", code, out.String(), errb.String())
	}
}
