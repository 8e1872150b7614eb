package cli

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestPreviewSlug(t *testing.T) {
	for in, want := range map[string]string{
		"feature/Login_2": "feature-login-2",
		"v1.4.2":          "v1-4-2",
		"--x--":           "x",
		"Ünïcode/branch":  "n-code-branch",
		"a_very_long_branch_name_that_goes_on_and_on_beyond_any_reasonable_length_x": "a-very-long-branch-name-that-goes-on-and-on-beyond-any",
	} {
		if got := previewSlug(in); got != want {
			t.Errorf("previewSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckLoops(t *testing.T) {
	if err := checkLoops("--loops", 1); err != nil {
		t.Fatal(err)
	}
	err := checkLoops("--edge-loops", 0)
	if err == nil || usererr.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--edge-loops must be at least 1") {
		t.Fatalf("0 loops: %v", err)
	}
}
