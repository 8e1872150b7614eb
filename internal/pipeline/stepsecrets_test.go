package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// fetchYAML fetches vault.required before the production gate (as the
// default release pipeline does) and prints the secret after it: a step
// that leaks it, through the server's environment here.
const fetchYAML = `
project: {name: shop}
vault: {required: [DEPLOY_TOKEN]}
environments:
  production:
    protection: {approvals: 1}
pipeline:
  stages:
    - name: prep
      steps:
        - name: secrets
          uses: fetch-secrets
    - name: ship
      needs: [prep]
      environment: production
      steps:
        - name: deploy
          run: echo "token $PHX_TEST_DEPLOY_TOKEN"
`

// resumeAndApprove waits until run id waits for its approval, restarts
// the service on the same database (with edit), approves and returns the
// log of ship/deploy, failing t unless the run succeeded.
func (f *fixture) resumeAndApprove(id int64, edit func(*Options)) string {
	f.t.Helper()
	f.waitStatus(id, Waiting)
	f.restart(edit)
	if err := f.svc.Approve(context.Background(), id, "", "bob", ""); err != nil {
		f.t.Fatal(err)
	}
	if d := f.wait(id); d.Status != Succeeded {
		f.t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(id, ""))
	}
	return f.log(id, "ship/deploy")
}

// fetchedNames returns the secret names recorded for run id's steps.
func (f *fixture) fetchedNames(id int64) string {
	f.t.Helper()
	rows, err := f.db.QueryContext(context.Background(), `SELECT step, name FROM pipeline_step_secrets WHERE run_id = $1 ORDER BY step, name`, id)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var step, name string
		if err := rows.Scan(&step, &name); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, step+" "+name)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return strings.Join(out, ", ")
}

// notOnDisk fails t if a file under the fixture's folder (the SQLite
// database and its journal, the runs' logs and files) or a row the
// pipeline stores holds secret.
func (f *fixture) notOnDisk(secret string) {
	f.t.Helper()
	n := 0
	err := filepath.WalkDir(f.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, []byte(secret)) {
			f.t.Errorf("%s holds the secret in plaintext", path)
		}
		return nil
	})
	if err != nil || n == 0 {
		f.t.Fatalf("reading %s: %d files, %v", f.dir, n, err)
	}
	f.notInTables(secret)
}

// notInTables fails t if the text the pipeline stores about runs (the
// database may be a PostgreSQL server, not a file to read) holds secret.
func (f *fixture) notInTables(secret string) {
	f.t.Helper()
	for _, q := range []string{`SELECT plan || inputs || message FROM pipeline_runs`,
		`SELECT error || outputs FROM pipeline_steps`, `SELECT step || name FROM pipeline_step_secrets`} {
		rows, err := f.db.QueryContext(context.Background(), q)
		if err != nil {
			f.t.Fatal(err)
		}
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				f.t.Fatal(err)
			}
			if strings.Contains(text, secret) {
				f.t.Errorf("%s: a row holds the secret in plaintext", q)
			}
		}
		if err := rows.Err(); err != nil {
			f.t.Fatal(err)
		}
		rows.Close()
	}
}

// TestResumedRunMasksTheSecretsAnActionFetched: the secrets fetch-secrets
// fetched before the production gate stay masked after the server
// restarts and resumes the run: the production step printing one writes
// *** to its log. Only the name is stored.
func TestResumedRunMasksTheSecretsAnActionFetched(t *testing.T) {
	const secret = "d3pl0y-t0ken-Zq9!x"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	f := newFixture(t, nil)
	r := f.release(f.project(fetchYAML), "v1.0.0")
	out := f.resumeAndApprove(r.ID, nil)
	if strings.Contains(out, secret) || !strings.Contains(out, "token ***") {
		t.Fatalf("the deploy's log after the resume: %q", out)
	}
	if got := f.fetchedNames(r.ID); got != "prep/secrets DEPLOY_TOKEN" {
		t.Errorf("recorded secrets: %q", got)
	}
	if log := f.log(r.ID, "prep/secrets"); !strings.Contains(log, "DEPLOY_TOKEN: fetched") {
		t.Errorf("the fetch's log: %q", log)
	}
	f.notOnDisk(secret)
}

// TestResumedRunMasksTheTSIGSecretOfADNSUpdate: the TSIG secret a
// dns/update step before the gate read stays masked after the resume,
// trimmed of the space it is stored with as well (the step prints it
// trimmed, as the action used it).
func TestResumedRunMasksTheTSIGSecretOfADNSUpdate(t *testing.T) {
	const key, secret = "phoenix-dr", "c2VjcmV0LWtleS1mb3ItcmVzdW1lLXRlc3RzLTAxMjM0NTY3ODk="
	t.Setenv("PHX_TEST_DNS_KEY", " "+secret+"\n")
	srv := dnsupdatetest.StartT(t, "example.com", key, secret)
	if err := srv.Add("www 300 IN A 192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	yaml := strings.NewReplacer("uses: fetch-secrets", fmt.Sprintf(`uses: dns/update
          with: {server: %q, zone: example.com, name: www, type: A, values: 198.51.100.7, tsig_key: %s, tsig_secret: DNS_KEY}`,
		srv.Addr, key), `echo "token $PHX_TEST_DEPLOY_TOKEN"`, `echo "key [$(echo $PHX_TEST_DNS_KEY)]"`,
		"vault: {required: [DEPLOY_TOKEN]}\n", "").Replace(fetchYAML)
	f := newFixture(t, nil)
	r := f.release(f.project(yaml), "v1.0.0")
	out := f.resumeAndApprove(r.ID, nil)
	if strings.Contains(out, secret) || !strings.Contains(out, "key [***]") {
		t.Fatalf("the deploy's log after the resume: %q", out)
	}
	if srv.Updates() != 1 {
		t.Errorf("%d updates, want the one before the gate", srv.Updates())
	}
	if got := f.fetchedNames(r.ID); got != "prep/secrets DNS_KEY" {
		t.Errorf("recorded secrets: %q", got)
	}
	f.notOnDisk(secret)
}

// productionSecrets serves a secret only to a run that names production,
// as the vault's policy serves production secrets.
type productionSecrets struct{ action.SecretSource }

func (p productionSecrets) Secret(ctx context.Context, name string) (string, error) {
	if run, ok := action.RunFrom(ctx); !ok || !slices.Contains(run.Environments, "production") {
		return "", fmt.Errorf("%s is a production secret", name)
	}
	return p.SecretSource.Secret(ctx, name)
}

// TestResumeAsksForTheSecretsAsTheStepDid: resolving a fetched secret
// again after the resume, the engine asks as the run's step did (a source
// sees the run and its environments), so a production secret the source
// served before the restart is served, and masked, again.
func TestResumeAsksForTheSecretsAsTheStepDid(t *testing.T) {
	const secret = "pr0d-t0ken-Lm4?w"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	prod := func(o *Options) { o.Deps.Secrets = productionSecrets{o.Deps.Secrets} }
	f := newFixture(t, prod)
	r := f.release(f.project(fetchYAML), "v1.0.0", "production")
	if out := f.resumeAndApprove(r.ID, prod); strings.Contains(out, secret) || !strings.Contains(out, "token ***") {
		t.Fatalf("the deploy's log after the resume: %q", out)
	}
}

// TestPruneDropsTheFetchedSecretNames: pruning a run deletes the secret
// names its steps recorded with it.
func TestPruneDropsTheFetchedSecretNames(t *testing.T) {
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", "d3pl0y-t0ken-Zq9!x")
	f := newFixture(t, nil)
	yaml := strings.Replace(fetchYAML, "protection: {approvals: 1}", "protection: {approvals: 0}", 1)
	r := f.release(f.project(yaml), "v1.0.0")
	if d := f.wait(r.ID); d.Status != Succeeded {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
	if got := f.fetchedNames(r.ID); got != "prep/secrets DEPLOY_TOKEN" {
		t.Fatalf("recorded secrets: %q", got)
	}
	if n, err := f.svc.deleteRuns(context.Background(), []int64{r.ID}); err != nil || n != 1 {
		t.Fatalf("deleteRuns: %d %v", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM pipeline_step_secrets`); n != 0 {
		t.Errorf("%d secret names left after the prune", n)
	}
}
