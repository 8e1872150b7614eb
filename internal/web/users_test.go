package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

func TestParseGrants(t *testing.T) {
	gs, err := parseGrants("viewer\n\n  deployer project=shop env=production \napprover environment=staging\n")
	want := []auth.Grant{{Role: "viewer"}, {Role: "deployer", Project: "shop", Environment: "production"}, {Role: "approver", Environment: "staging"}}
	if err != nil || !slices.Equal(gs, want) {
		t.Fatalf("parseGrants = %+v, %v; want %+v", gs, err, want)
	}
	if again, err := parseGrants(grantLines(gs)); err != nil || !slices.Equal(again, gs) {
		t.Errorf("round trip: %+v, %v", again, err)
	}
	for in, msg := range map[string]string{
		"viewer project=a project=b":            `grants line 1: "project=b"`,
		"viewer\nproject=shop":                  `grants line 2: "project=shop": start with the role`,
		"viewer env=":                           `grants line 1: "env="`,
		"viewer shop":                           `grants line 1: "shop"`,
		strings.Repeat("viewer\n", maxGrants+1): "more than 100 lines",
	} {
		if _, err := parseGrants(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseGrants(%q) = %v; want %q", in, err, msg)
		}
	}
	if gs, err := parseGrants(" \n"); err != nil || gs == nil || len(gs) != 0 {
		t.Errorf("empty grants: %+v, %v; want an empty list (every role taken away)", gs, err)
	}
}

func FuzzParseGrants(f *testing.F) {
	f.Add("viewer\ndeployer project=shop env=production")
	f.Add("a=b")
	f.Fuzz(func(t *testing.T, s string) {
		gs, err := parseGrants(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "grants") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		again, err := parseGrants(grantLines(gs))
		if err != nil || !slices.Equal(again, gs) {
			t.Fatalf("%q: round trip %+v -> %+v, %v", s, gs, again, err)
		}
	})
}
