package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Tokens are put together at run time, so that no scanner (this
// project's, a code host's push protection) takes the test for a leak.
var (
	githubLike = "ghp" + "_" + strings.Repeat("a1B2", 9)
	awsLike    = "AKIA" + "Q3XJ7PLM2ZRT5KWD"
	slackLike  = "xoxb" + "_1234567890_2345678901_" + strings.Repeat("Ab3d", 6)
	stripeLike = "sk" + "_live_" + strings.Repeat("4eC39HqLyjWD", 2)
)

// TestCredentialLike: the names refused are the well-known token shapes,
// alone or as a _-separated part of a name; names in use, and words that
// merely start like a token, are not.
func TestCredentialLike(t *testing.T) {
	for name, want := range map[string]string{
		githubLike:             "a GitHub token",
		"OLD_" + githubLike:    "a GitHub token",
		"gho" + githubLike[3:]: "a GitHub token",
		"github" + "_pat_" + strings.Repeat("11AB_cd", 11) + "x1234": "a GitHub fine-grained token",
		awsLike:                                 "an AWS access key id",
		awsLike + "_PROD":                       "an AWS access key id",
		"npm" + "_" + strings.Repeat("z9Y8", 9): "an npm token",
		slackLike:                               "a Slack token",
		stripeLike:                              "a Stripe secret key",
		"rk" + stripeLike[2:]:                   "a Stripe secret key",
		"AIza" + "Sy" + strings.Repeat("B3xK9", 6) + "qwe": "a Google API key",
		"dckr" + "_pat_" + strings.Repeat("Zq4x", 7):       "a Docker Hub token",
		"dckr" + "_oat_" + strings.Repeat("Zq4x", 7):       "a Docker Hub token",
		"glpat" + "_" + strings.Repeat("x9Kq", 5):          "a GitLab token",
		"OLD_" + "gldt" + "_" + strings.Repeat("Ab3_", 6):  "a GitLab token",
		"glrt" + "_t1_" + strings.Repeat("Zz9y", 5):        "a GitLab token",
		"glwt" + "_" + strings.Repeat("Qm7_", 6) + "x4":    "a GitLab token",
		"GR" + "1348941" + strings.Repeat("aB3d", 5):       "a GitLab runner registration token",
		"OLD_GR" + "1348941" + strings.Repeat("x_9Z", 5):   "a GitLab runner registration token",
		"shp" + "at_" + strings.Repeat("0f9e", 8):          "a Shopify token",
		"dop" + "_v1_" + strings.Repeat("a1b2c3d4", 8):     "a DigitalOcean token",
	} {
		if got := credentialLike(name); got != want {
			t.Errorf("credentialLike(%q) = %q, want %q", name, got, want)
		}
	}
	// Names in use, and words or names that only start like a token.
	for _, name := range []string{"DB_PASSWORD", "GITHUB_TOKEN", "AWS_ACCESS_KEY_ID",
		"ASIAPACIFICREGIONKEY", // a word: no digit
		"MY" + awsLike,         // not a part of its own
		githubLike + "x",       // 37 characters: no GitHub token
		"ghp_short1", "sk_live_key", "xoxb_bot", "STRIPE_SK_LIVE_KEY_2024", "PHOENIX_EDGE_SESSION_KEY",
		"npm_token_for_the_registry_1", "DOCKER_PAT_2024", "SHOPIFY_TOKEN_1", "DO_V1_TOKEN_2",
		"GLPAT_TOKEN_FOR_CI_2024", "glpat_short1", "glrt_" + strings.Repeat("abcd", 6),
		"GLWT_WORKSPACE_TOKEN_2", "GR" + "1348941" + strings.Repeat("aB3d", 4), // 16 characters: too short
		"GR" + "1348941" + strings.Repeat("aB3d", 6)} { // 24: too long
		if got := credentialLike(name); got != "" {
			t.Errorf("credentialLike(%q) = %q, want none", name, got)
		}
	}
}

// TestCredentialNamesAreNotCreated: a new secret named like a credential
// is refused, by set and by import (nothing of the file is written), with an
// error that says what the name looks like and does not echo it; the
// name is not in the server's log nor the audit records of the refusals,
// nor those of a read of it. Conventional no longer takes such a name
// (an AWS key id is upper case and digits) as one to show.
func TestCredentialNamesAreNotCreated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	names := []string{githubLike, awsLike, slackLike, stripeLike, "OLD_" + githubLike}
	var errs []error
	for _, name := range names {
		_, err := e.v.Set(ctx, admin, name, SecretString("a-real-value"), SetOptions{})
		errs = append(errs, err)
		entries := []EnvEntry{{Name: "FINE_NAME", Value: SecretString("value-1"), Line: 1},
			{Name: name, Value: SecretString("value-2"), Line: 2}}
		_, err = e.v.Import(ctx, admin, entries, ImportOptions{})
		errs = append(errs, err)
		_, _, err = e.v.Get(ctx, admin, name, 0)
		if usererr.KindOf(err) != usererr.NotFound {
			t.Errorf("read of a name no secret has: %v", err)
		}
		if Conventional(name) {
			t.Errorf("a credential is taken for a conventional name")
		}
	}
	for i, err := range errs {
		if usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "the secret name looks like ") {
			t.Fatalf("error %d: %v", i, err)
		}
		if i%2 == 1 && !strings.HasPrefix(err.Error(), "line 2: ") {
			t.Errorf("import error does not name the line: %v", err)
		}
	}
	if list, err := e.v.List(ctx, admin, ListOptions{}); err != nil || len(list) != 0 {
		t.Fatalf("something was written: %v %v", list, err)
	}
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error(), usererr.HintOf(err), fmt.Sprintf("%+v", err))
	}
	audit, _ := json.Marshal(e.audit.all())
	if !e.audit.has("secret.write", OutcomeFailed) || e.logs.Len() == 0 {
		t.Fatalf("the refusals were not audited, or nothing logged; the check would prove nothing:\n%s", audit)
	}
	for where, text := range map[string]string{"errors": strings.Join(msgs, "\n"), "logs": e.logs.String(), "audit": string(audit)} {
		for _, name := range names {
			if strings.Contains(text, name) {
				t.Errorf("the %s show a name that looks like a credential:\n%s", where, text)
			}
		}
	}
}

// TestCredentialNamedSecretsStillWork: a secret named like a credential
// before names were checked can still be read, written, rotated, deleted
// and purged: nobody is locked out of their own secret.
func TestCredentialNamedSecretsStillWork(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	shapes := credentialShapes
	credentialShapes = nil // a vault from before the check
	e.set(t, awsLike, "first-value")
	credentialShapes = shapes
	if got := e.get(t, awsLike, 0); got != "first-value" {
		t.Fatalf("read %q", got)
	}
	e.set(t, awsLike, "second-value")
	pol := &RotationPolicy{EveryDays: 30, Generator: GeneratorSpec{Type: "random", Length: 40}}
	if err := e.v.SetRotation(ctx, admin, awsLike, pol); err != nil {
		t.Fatal(err)
	}
	if vi, err := e.v.Rotate(ctx, admin, awsLike); err != nil || vi.Version != 3 {
		t.Fatalf("rotate: %+v %v", vi, err)
	}
	if _, err := e.v.Delete(ctx, admin, awsLike); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Recover(ctx, admin, awsLike); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Delete(ctx, admin, awsLike); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Purge(ctx, admin, awsLike); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Set(ctx, admin, awsLike, SecretString("third-value"), SetOptions{}); usererr.KindOf(err) != usererr.Invalid {
		t.Errorf("once purged, the name is new again and refused: %v", err)
	}
}
