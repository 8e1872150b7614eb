// Command pipeline measures the release pipeline engine: the overhead it
// adds per step (a step running `true`, engine wall time minus the time
// the same processes take when started directly), and whether a 50-step
// DAG of 10-wide parallel stages runs its parallel steps concurrently
// (wall time against the sum of step times).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/store"
)

func main() {
	steps := flag.Int("steps", 200, "sequential steps for the overhead measurement")
	sleep := flag.Duration("sleep", 200*time.Millisecond, "duration of each DAG step")
	confine := flag.Bool("confine", true, "confine the steps as a server does where it can (internal/sandbox); false: unconfined")
	flag.Parse()
	if err := run(*steps, *sleep, *confine); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, sleep time.Duration, confine bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "phoenix-bench-pipeline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, pipeline.Migrations()); err != nil {
		return err
	}
	opts := pipeline.Options{DB: db, LogDir: filepath.Join(dir, "runs"), MaxParallel: 10}
	mode := "unconfined"
	if _, err := sandbox.Available(); confine && err == nil {
		// As the server: the data dir hidden, the project (here inside it) open.
		opts.Hidden, opts.Homes, mode = []string{dir}, filepath.Join(dir, "homes"), "confined"
	}
	svc, err := pipeline.New(opts)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Stop(ctx)

	// Baseline: the same processes started directly, one after another.
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := executor.Run(ctx, executor.Cmd{Script: "true", Env: os.Environ()}); err != nil {
			return err
		}
	}
	direct := time.Since(start)

	var b strings.Builder
	b.WriteString("project: {name: bench}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: seq\n      steps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "        - {name: s%d, run: \"true\"}\n", i)
	}
	wall, err := release(ctx, svc, dir, "seq", b.String())
	if err != nil {
		return err
	}
	per := (wall - direct) / time.Duration(n)
	fmt.Printf("overhead\t%s\tsteps=%d\tengine_wall=%s\tdirect_exec=%s\tper_step_total=%s\tper_step_overhead=%s\n",
		mode, n, wall.Round(time.Millisecond), direct.Round(time.Millisecond), (wall / time.Duration(n)).Round(time.Microsecond),
		per.Round(time.Microsecond))

	b.Reset()
	b.WriteString("project: {name: bench}\nenvironments: {production: {}}\npipeline:\n  stages:\n")
	// Parallel groups are stages: level s has 10 one-step stages that all
	// need every stage of level s-1.
	for s := 0; s < 5; s++ {
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "    - name: l%d-%d\n", s, i)
			if s > 0 {
				var needs []string
				for k := 0; k < 10; k++ {
					needs = append(needs, fmt.Sprintf("l%d-%d", s-1, k))
				}
				fmt.Fprintf(&b, "      needs: [%s]\n", strings.Join(needs, ", "))
			}
			fmt.Fprintf(&b, "      steps: [{name: s, run: \"sleep %g\"}]\n", sleep.Seconds())
		}
	}
	wall, err = release(ctx, svc, dir, "dag", b.String())
	if err != nil {
		return err
	}
	sum := 50 * sleep
	fmt.Printf("dag\tsteps=50\tstages=5x10\tstep=%s\tsum_of_steps=%s\tcritical_path=%s\twall=%s\tspeedup=%.1fx\n",
		sleep, sum, 5*sleep, wall.Round(time.Millisecond), float64(sum)/float64(wall))
	return nil
}

// release writes the project and runs it to the end, returning its wall time.
func release(ctx context.Context, svc *pipeline.Service, dir, name, yaml string) (time.Duration, error) {
	proj := filepath.Join(dir, name)
	if err := os.MkdirAll(proj, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		return 0, err
	}
	start := time.Now()
	r, err := svc.Release(ctx, pipeline.ReleaseRequest{Dir: proj, Version: "1.0.0"})
	if err != nil {
		return 0, err
	}
	if err := svc.Logs(ctx, r.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		return 0, err
	}
	wall := time.Since(start)
	d, err := svc.Get(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	if d.Status != pipeline.Succeeded {
		return 0, fmt.Errorf("%s run %s: %s", name, d.Status, d.Message)
	}
	return wall, nil
}
