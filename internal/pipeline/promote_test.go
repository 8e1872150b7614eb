package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestReleaseOfTheSameVersionGoesOnToProduction: a version released to
// staging alone is released to production next with the same tag, which
// validate-tag once refused as not greater than the last release; once
// there, it is not released to production again.
func TestReleaseOfTheSameVersionGoesOnToProduction(t *testing.T) {
	f := newFixture(t, nil)
	proj := f.project("project: {name: shop}\nenvironments:\n  staging: {}\n  production: {}\n" +
		"pipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: version, uses: validate-tag}\n")
	if d := f.wait(f.release(proj, "v1.0.0", "staging").ID); d.Status != Succeeded {
		t.Fatalf("to staging: %s %s", d.Status, d.Message)
	}
	d := f.wait(f.release(proj, "v1.0.0", "production").ID)
	if d.Status != Succeeded {
		t.Fatalf("the same version to production: %s %s", d.Status, d.Message)
	}
	if log := f.log(d.ID, "main/version"); !strings.Contains(log, "version 1.0.0, released to staging, is promoted to production") {
		t.Errorf("validate-tag's log:\n%s", log)
	}
	_, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0", Environments: []string{"production"}, Actor: "alice"})
	if usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "not greater than the last release v1.0.0") {
		t.Errorf("to production again: %v; want it refused before it is queued", err)
	}
}
