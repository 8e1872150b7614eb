package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestPromoteFromIsDeclaredAndEnforced: an environment's promote_from is
// a protection: setting or dropping it needs env.write, re-declaring it
// unchanged only deploy. Finalizing on production an artifact staging
// never ran is a conflict naming the setting; after staging it is taken.
func TestPromoteFromIsDeclaredAndEnforced(t *testing.T) {
	f := newFixture(t)
	prod := "/api/v1/projects/shop/environments/production"
	promoting := EnvRequest{Locked: true, PromoteFrom: "staging"}
	if code, body, _ := f.call("contributor", "PUT", prod, promoting); code != 403 {
		t.Fatalf("contributor sets promote_from: %d %s", code, body)
	}
	code, body, _ := f.call("admin", "PUT", prod, promoting)
	var env deploy.Environment
	if code != 200 || json.Unmarshal(body, &env) != nil || env.PromoteFrom != "staging" {
		t.Fatalf("admin sets promote_from: %d %s", code, body)
	}
	if code, body, _ := f.call("contributor", "PUT", prod, promoting); code != 200 {
		t.Fatalf("contributor re-declares it unchanged: %d %s", code, body)
	}
	if code, body, _ := f.call("contributor", "PUT", prod, EnvRequest{Locked: true}); code != 403 {
		t.Fatalf("contributor drops promote_from: %d %s", code, body)
	}

	canon, d, content := f.manifest("promoted")
	finalize := func(env string) (int, Error) {
		t.Helper()
		up, err := f.dep.BeginUpload(bg, "shop", canon)
		if err != nil {
			t.Fatal(err)
		}
		if len(up.Missing) > 0 {
			if err := f.dep.PutBlob(bg, up.ID, d, bytes.NewReader(content), int64(len(content))); err != nil {
				t.Fatal(err)
			}
		}
		code, body, _ := f.call("admin", "POST", "/api/v1/uploads/"+up.ID+"/finalize", FinalizeRequest{Environment: env})
		var e Error
		json.Unmarshal(body, &e)
		return code, e
	}
	code, e := finalize("production")
	if code != 409 || e.Code != "conflict" ||
		!strings.HasPrefix(e.Message, "environment shop/production takes only artifacts that ran on staging (environments.production.promote_from: staging): artifact sha256:") ||
		!strings.HasSuffix(e.Message, " has no deployment on staging") || !strings.Contains(e.Hint, "deploy it to staging first") {
		t.Fatalf("finalize on production first: %d %+v", code, e)
	}
	if code, e := finalize("staging"); code != 201 {
		t.Fatalf("finalize on staging: %d %+v", code, e)
	}
	if code, e := finalize("production"); code != 201 {
		t.Fatalf("finalize on production after staging: %d %+v", code, e)
	}
}
