package suggest

import (
	"slices"
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"", "abc", 3}, {"list", "lst", 1}, {"unseal", "unsael", 2}, {"kitten", "sitting", 3},
		{"héllo", "hello", 1}, {strings.Repeat("a", 300), "a", 300}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestBest(t *testing.T) {
	envs := []string{"staging", "production", "preview"}
	for word, want := range map[string]string{"stagin": "staging", "PRODUCTON": "production", "prod": "production",
		"pre": "preview", "pr": "", "qa": "", "deploy": ""} {
		if got := Best(word, envs); got != want {
			t.Errorf("Best(%q) = %q, want %q", word, got, want)
		}
	}
	if got := Best("x", nil); got != "" {
		t.Errorf("Best over nothing = %q", got)
	}
}

func TestNearest(t *testing.T) {
	if got := Nearest("lst", []string{"list", "last", "restore", "list"}); !slices.Equal(got, []string{"list", "last"}) {
		t.Errorf("Nearest(lst) = %v", got)
	}
	if got := Nearest("x", nil); got != nil {
		t.Errorf("Nearest over nothing = %v", got)
	}
}
