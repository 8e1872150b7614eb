package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestStageAndDeployStagesAgainWhenABlobVanished: a deploy whose staged
// blob was collected before the upload named it ("get sha256:…: blob not
// found" from the staging store) stages again and deploys again, once;
// any other failure is returned as it is.
func TestStageAndDeployStagesAgainWhenABlobVanished(t *testing.T) {
	t.Parallel()
	vanished := fmt.Errorf("get sha256:ab: %w", backend.ErrNotFound)
	cases := []struct {
		name          string
		errs          []error // what each deploy returns
		stages, calls int
		ok            bool
	}{
		{"first try", []error{nil}, 1, 1, true},
		{"blob collected under the upload", []error{vanished, nil}, 2, 2, true},
		{"gone twice", []error{vanished, vanished}, 2, 2, false},
		{"other failure", []error{usererr.New(usererr.NotFound, "no environment \"prod\"")}, 1, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stages, calls := 0, 0
			res, err := stageAndDeploy(func() ([]byte, error) { stages++; return []byte("manifest"), nil },
				func(canon []byte) (*client.DeployResult, error) {
					calls++
					if e := c.errs[calls-1]; e != nil {
						return nil, e
					}
					return &client.DeployResult{Total: 1}, nil
				})
			if stages != c.stages || calls != c.calls || (err == nil) != c.ok || (res != nil) != c.ok {
				t.Fatalf("stages %d, deploys %d, result %v, error %v", stages, calls, res, err)
			}
			if !c.ok && c.name == "other failure" && errors.Is(err, backend.ErrNotFound) {
				t.Fatal("an API not-found was taken for a vanished blob")
			}
		})
	}
}
