package spec

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

func TestStepWorkingDirComesFromConfig(t *testing.T) {
	cfg, err := config.Parse([]byte("version: 1\nproject:\n  name: shop\nworkflows:\n  nightly:\n    triggers:\n      - cron: \"0 3 * * *\"\n    steps:\n      - name: e2e\n        run: npm test\n        dir: apps/web\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := FromWorkflow("nightly", cfg.Workflows["nightly"])
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Dir != "apps/web" {
		t.Fatalf("steps = %+v", plan.Steps)
	}
	if _, err := config.Parse([]byte("version: 1\nproject:\n  name: shop\nworkflows:\n  w:\n    triggers:\n      - cron: \"@daily\"\n    steps:\n      - name: x\n        run: ls\n        dir: ../outside\n"), "phoenix.yaml"); err == nil {
		t.Fatal("a working dir outside the project was accepted")
	}
}
