package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// apiDo calls the server's API as the admin and returns status and body.
func apiDo(t *testing.T, a *App, method, path string) (int, string) {
	t.Helper()
	return apiSend(t, a, method, path, "")
}

// apiSend is apiDo with a JSON body ("" for none).
func apiSend(t *testing.T, a *App, method, path, body string) (int, string) {
	t.Helper()
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return apiSendAs(t, a, tok, method, path, body)
}

// apiSendAs is apiSend with token.
func apiSendAs(t *testing.T, a *App, token, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, a.APIURL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServerPrunesOldRunsAfterARunFinishes: runs aged beyond the
// retention are pruned by the leader once another run finishes: rows,
// folders and an audit record; the API then answers 404 for the run and
// its logs, and POST /api/v1/gc reports run counts.
func TestServerPrunesOldRunsAfterARunFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startOpts(t, Options{DataDir: t.TempDir(), RunRetention: pipeline.Retention{MaxAge: 24 * time.Hour, Keep: 1}})
	dir, _ := workflowDir(t, "true")
	run := func() int64 {
		r, err := a.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: dir, Workflow: "count", Actor: "t", Trigger: "manual"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Pipeline.Logs(ctx, r.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	old := []int64{run(), run()}
	aged := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339Nano)
	if _, err := a.DB.ExecContext(ctx, `UPDATE pipeline_runs SET created_at = $1`, aged); err != nil {
		t.Fatal(err) // as if they ran two days ago
	}
	kept := run()
	eventually(t, "the old runs are pruned after a run finished, rows then folders", func() bool {
		code, _ := apiDo(t, a, "GET", fmt.Sprintf("/api/v1/runs/%d", old[1]))
		for _, id := range old {
			if _, err := os.Stat(filepath.Join(a.opts.DataDir, "runs", fmt.Sprint(id))); !os.IsNotExist(err) {
				return false // Prune removes the rows, then sweeps the folders
			}
		}
		return code == http.StatusNotFound
	})
	for _, id := range old {
		if code, body := apiDo(t, a, "GET", fmt.Sprintf("/api/v1/runs/%d/logs", id)); code != http.StatusNotFound || !strings.Contains(body, fmt.Sprintf("no run %d", id)) {
			t.Errorf("logs of pruned run %d: %d %s", id, code, body)
		}
	}
	if code, body := apiDo(t, a, "GET", fmt.Sprintf("/api/v1/runs/%d/logs", kept)); code != 200 || !strings.Contains(body, "output of the step") {
		t.Errorf("logs of the kept run: %d %q", code, body)
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "pipeline.prune"})
	deleted := 0
	for _, r := range recs { // one prune, or two when the second run's finish came after the aging
		var n int
		fmt.Sscanf(r.Detail, "retention deleted %d run(s)", &n)
		deleted += n
	}
	if err != nil || deleted != 2 {
		t.Fatalf("audit of the prune: %+v %v, want 2 runs deleted", recs, err)
	}
	code, body := apiDo(t, a, "POST", "/api/v1/gc")
	var st map[string]int
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("gc: %d %s", code, body)
	}
	if n, ok := st["runs"]; !ok || n != 0 || st["run_folders"] != 0 || st["blobs"] != 0 {
		t.Fatalf("gc answered %s, want runs and run_folders at 0", body)
	}
}
