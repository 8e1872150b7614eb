package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFileTakesOnlyARegularFile: a phoenix.yaml that is a folder or
// a named pipe is refused at once (a pipe would block the read until
// something writes to it), and one too large is read only up to the
// byte Parse refuses.
func TestReadFileTakesOnlyARegularFile(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "pipe")
	if err := mkfifo(pipe); err != nil {
		t.Log("no named pipe:", err)
		pipe = ""
	}
	for _, p := range []string{folder, pipe} {
		if p == "" {
			continue
		}
		if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(%s) = %v, want not a regular file", p, err)
		}
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+100), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(big); err != nil || len(data) != MaxFileSize+1 {
		t.Errorf("ReadFile(big) = %d bytes, %v; want %d", len(data), err, MaxFileSize+1)
	}
}

// TestProjectName reads project.name alone, whatever else the file holds.
func TestProjectName(t *testing.T) {
	for in, want := range map[string]string{
		"project: {name: shop}\nbogus: [1\n":                 "",
		"project: {name: shop}\nbuild: 5\nnot_a_key: true\n": "shop",
		"environments: {staging: {}}\n":                      "",
		"project: shop\n":                                    "",
		"\x00\x01":                                           "",
		"":                                                   "",
		"project:\n  name: billing\n---\nproject: {name: x}\n":  "billing",
		"a: &a [x, x, x]\nb: [*a, *a]\nproject: {name: shop}\n": "shop",
	} {
		if got := ProjectName([]byte(in)); got != want {
			t.Errorf("ProjectName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ProjectName([]byte("project: {name: shop}\n" + strings.Repeat("#", MaxFileSize))); got != "" {
		t.Errorf("ProjectName of a file too large = %q, want none", got)
	}
}
