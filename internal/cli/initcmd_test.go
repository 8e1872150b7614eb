package cli

import "testing"

// TestInitNextSteps: the commands init suggests name the project's folder
// when it is not the current one, so they can be pasted as they are.
func TestInitNextSteps(t *testing.T) {
	for dir, want := range map[string]string{
		".":       "next: phoenix validate, then phoenix release v0.1.0 --env staging",
		"./":      "next: phoenix validate, then phoenix release v0.1.0 --env staging",
		"../shop": "next: phoenix validate ../shop, then phoenix release v0.1.0 --dir ../shop --env staging",
	} {
		if got := nextSteps(dir); got != want {
			t.Errorf("nextSteps(%q) = %q, want %q", dir, got, want)
		}
	}
}
