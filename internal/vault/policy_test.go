package vault

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func testPolicy() Policy {
	return Policy{
		Production: []string{"PROD_*", "*_PROD_*"},
		Rules: []Rule{
			{Secrets: []string{"*"}, Roles: []string{"admin"}, Allow: []Permission{PermRead, PermList, PermWrite}},
			{Secrets: []string{"*"}, Roles: []string{"viewer"}, Allow: []Permission{PermList}},
			{Secrets: []string{"AZURE_*", "PROD_*"}, Pipelines: []string{"release"}, Environments: []string{"production", "staging"}, Allow: []Permission{PermRead}},
			{Secrets: []string{"STAGING_*"}, Pipelines: []string{"release", "preview-*"}, Allow: []Permission{PermRead}},
		},
	}
}

func TestPolicyCheck(t *testing.T) {
	p := testPolicy()
	prodRun := Subject{Actor: "release#1", Pipeline: "release", Environment: "production", Production: true}
	stagingRun := Subject{Actor: "release#2", Pipeline: "release", Environment: "staging"}
	previewRun := Subject{Actor: "preview-42#1", Pipeline: "preview-42", Environment: "pr-42"}
	tests := []struct {
		name    string
		subj    Subject
		perm    Permission
		secret  string
		flagged bool
		allowed bool
	}{
		{"admin reads anything", admin, PermRead, "PROD_GITHUB_TOKEN", false, true},
		{"viewer lists", Subject{Roles: []string{"viewer"}}, PermList, "PROD_GITHUB_TOKEN", false, true},
		{"viewer cannot read", Subject{Roles: []string{"viewer"}}, PermRead, "API_KEYS", false, false},
		{"viewer cannot write", Subject{Roles: []string{"viewer"}}, PermWrite, "API_KEYS", false, false},
		{"no roles, no access", Subject{Actor: "bob"}, PermList, "API_KEYS", false, false},
		{"production run reads a production secret", prodRun, PermRead, "PROD_GITHUB_TOKEN", false, true},
		{"staging run is refused a production secret by glob", stagingRun, PermRead, "PROD_GITHUB_TOKEN", false, false},
		{"staging run is refused a flagged production secret", stagingRun, PermRead, "AZURE_SUBSCRIPTION_ID", true, false},
		{"staging run reads an unflagged allowed secret", stagingRun, PermRead, "AZURE_SUBSCRIPTION_ID", false, true},
		{"environment glob excludes preview", previewRun, PermRead, "AZURE_SUBSCRIPTION_ID", false, false},
		{"pipeline glob", previewRun, PermRead, "STAGING_DB_URL", false, true},
		{"runs cannot write", prodRun, PermWrite, "PROD_GITHUB_TOKEN", false, false},
		{"secret glob excludes other names", prodRun, PermRead, "OTHER", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(tt.subj, tt.perm, tt.secret, tt.flagged)
			if (err == nil) != tt.allowed {
				t.Fatalf("Check = %v, want allowed=%v", err, tt.allowed)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"default", DefaultPolicy(), ""},
		{"test policy", testPolicy(), ""},
		{"no secrets", Policy{Rules: []Rule{{Roles: []string{"a"}, Allow: []Permission{PermRead}}}}, "secrets is empty"},
		{"everyone", Policy{Rules: []Rule{{Secrets: []string{"*"}, Allow: []Permission{PermRead}}}}, "apply to everyone"},
		{"bad glob", Policy{Rules: []Rule{{Secrets: []string{"[a"}, Roles: []string{"a"}}}}, "glob \"[a\""},
		{"bad permission", Policy{Rules: []Rule{{Secrets: []string{"*"}, Roles: []string{"a"}, Allow: []Permission{"delete"}}}}, "use read, list or write"},
		{"bad production glob", Policy{Production: []string{"[x"}}, "production glob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := New(Options{DB: newEnv(t).db, Policy: &Policy{Rules: []Rule{{}}}}); usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("New with a bad policy: %v", err)
	}
}

func TestAccessIsEnforcedAndAudited(t *testing.T) {
	p := testPolicy()
	e := newEnv(t, func(o *Options) { o.Policy = &p })
	ctx := context.Background()
	e.set(t, "PROD_GITHUB_TOKEN", "ghp_x")
	e.set(t, "STAGING_DB_URL", "postgres://s")
	e.set(t, "API_KEYS", "kkkk")
	stagingRun := Subject{Actor: "release#2", Pipeline: "release", Environment: "staging"}
	_, _, err := e.v.Get(ctx, stagingRun, "PROD_GITHUB_TOKEN", 0)
	if !errors.Is(err, ErrDenied) || usererr.KindOf(err) != usererr.Forbidden || !strings.Contains(err.Error(), "not a production run") {
		t.Fatalf("staging run read of a production secret: %v", err)
	}
	// Told apart from other denials, so a staging release need not fail
	// for a production secret in vault.required.
	if !errors.Is(err, ErrProductionOnly) {
		t.Fatalf("staging run read of a production secret is not ErrProductionOnly: %v", err)
	}
	denial := e.audit.all()[len(e.audit.all())-1]
	if denial.Outcome != OutcomeDenied || denial.Actor != "release#2" || denial.Target != "secret/PROD_GITHUB_TOKEN" {
		t.Fatalf("denial audit = %+v", denial)
	}
	if _, _, err := e.v.Get(ctx, Subject{Actor: "vic", Roles: []string{"viewer"}}, "API_KEYS", 0); !errors.Is(err, ErrDenied) || errors.Is(err, ErrProductionOnly) {
		t.Fatalf("a viewer's read: %v, want a denial that is not ErrProductionOnly", err)
	}
	if s, err := e.v.Resolve(ctx, "STAGING_DB_URL", stagingRun); err != nil || s.Reveal() != "postgres://s" {
		t.Fatalf("allowed resolve: %v", err)
	}
	viewer := Subject{Actor: "vic", Roles: []string{"viewer"}}
	list, err := e.v.List(ctx, viewer, ListOptions{})
	if err != nil || len(list) != 3 {
		t.Fatalf("viewer list = %v, %v", list, err)
	}
	if l, _ := e.v.List(ctx, stagingRun, ListOptions{}); len(l) != 0 {
		t.Fatalf("a run without list permission listed %v", l)
	}
	for name, op := range map[string]func() error{
		"delete": func() error { _, err := e.v.Delete(ctx, viewer, "API_KEYS"); return err },
		"set": func() error {
			_, err := e.v.Set(ctx, viewer, "API_KEYS", SecretString("xxxx"), SetOptions{})
			return err
		},
		"import": func() error {
			_, err := e.v.Import(ctx, viewer, []EnvEntry{{Name: "API_KEYS", Value: SecretString("xxxx")}}, ImportOptions{})
			return err
		},
		"history": func() error { _, err := e.v.History(ctx, stagingRun, "API_KEYS"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, ErrDenied) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if got := e.get(t, "API_KEYS", 0); got != "kkkk" {
		t.Fatalf("a denied write changed the value: %q", got)
	}
}

// TestExpiringFollowsTheListPermission: what expires soon is metadata of
// the kind List shows, so a caller sees only the secrets the policy lets
// them list; one whose listing is empty learns no name, version or
// certificate subject from it. The server's own code sees every one.
func TestExpiringFollowsTheListPermission(t *testing.T) {
	p := Policy{Rules: []Rule{
		{Secrets: []string{"*"}, Roles: []string{"admin"}, Allow: []Permission{PermRead, PermList, PermWrite}},
		{Secrets: []string{"TEAM_*"}, Roles: []string{"team"}, Allow: []Permission{PermList}},
	}}
	e := newEnv(t, func(o *Options) { o.Policy = &p })
	ctx := context.Background()
	soon := SetOptions{ExpiresAt: e.clock.Now().Add(5 * 24 * time.Hour)}
	for _, name := range []string{"TEAM_TOKEN", "PROD_DB_PASSWORD"} {
		if _, err := e.v.Set(ctx, admin, name, SecretString("value of "+name), soon); err != nil {
			t.Fatal(err)
		}
	}
	names := func(subj Subject) []string {
		t.Helper()
		exp, err := e.v.Expiring(ctx, subj, 30*24*time.Hour)
		if err != nil {
			t.Fatalf("Expiring as %s: %v", subj.Actor, err)
		}
		var out []string
		for _, x := range exp {
			out = append(out, x.Name)
		}
		slices.Sort(out)
		return out
	}
	team := Subject{Actor: "tess", Roles: []string{"team"}}
	nobody := Subject{Actor: "vic", Roles: []string{"viewer"}}
	if l, _ := e.v.List(ctx, nobody, ListOptions{}); len(l) != 0 {
		t.Fatalf("vic lists %v; the test wants a caller who lists nothing", l)
	}
	for _, c := range []struct {
		subj Subject
		want []string
	}{
		{admin, []string{"PROD_DB_PASSWORD", "TEAM_TOKEN"}},
		{team, []string{"TEAM_TOKEN"}},
		{nobody, nil},
		{Subject{Actor: "release#1", Pipeline: "release", Environment: "production", Production: true}, nil},
		{Subject{Actor: "phoenix:monitor", System: true}, []string{"PROD_DB_PASSWORD", "TEAM_TOKEN"}},
	} {
		if got := names(c.subj); !slices.Equal(got, c.want) {
			t.Errorf("Expiring as %s = %v, want %v", c.subj.Actor, got, c.want)
		}
	}
}
