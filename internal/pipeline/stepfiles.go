package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// StoredFileCap is the largest file of the run's files folder kept in the
// database for a resume on another server (create-artifact's manifest
// lists every file of the release: a few hundred bytes each).
const StoredFileCap = 32 << 20

// keepFiles stores the files in the run's files folder that a finished
// step's outputs name (create-artifact's manifest, which the deploys read),
// when servers share the database: a run waiting for approval may be
// resumed by another server, whose files folder is its own (resume.go).
func (e *execution) keepFiles(ctx context.Context, step string, outputs map[string]string) {
	if !e.s.storesLogs() {
		return
	}
	for output, path := range outputs {
		name, err := filepath.Rel(e.files, path)
		if err != nil || !filepath.IsAbs(path) || !filepath.IsLocal(name) {
			continue // not a path in the files folder
		}
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Size() > StoredFileCap {
			e.s.log.Warn("pipeline: a file a step's output names is too big to keep for a resume on another server",
				"run", e.run.ID, "step", step, "output", output, "bytes", fi.Size())
			continue
		}
		data, err := os.ReadFile(path)
		if err == nil {
			_, err = e.s.opts.DB.ExecContext(ctx, `INSERT INTO pipeline_step_files (run_id, step, output, name, data)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, step, output) DO UPDATE SET name = excluded.name,
				data = excluded.data`, e.run.ID, step, output, filepath.ToSlash(name), data)
		}
		if err != nil {
			e.s.log.Warn("pipeline: a file a step's output names is not kept; a resume on another server lacks it",
				"run", e.run.ID, "step", step, "output", output, "err", err)
		}
	}
}

// restoreFiles writes the kept files of a resumed run into this server's
// files folder (where missing) and points the outputs naming them there.
func (e *execution) restoreFiles(ctx context.Context) error {
	rows, err := e.s.opts.DB.QueryContext(ctx, `SELECT step, output, name, data FROM pipeline_step_files WHERE run_id = $1`, e.run.ID)
	if err != nil {
		return fmt.Errorf("pipeline: the kept files of run %d: %w", e.run.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var step, output, name string
		var data []byte
		if err := rows.Scan(&step, &output, &name, &data); err != nil {
			return fmt.Errorf("pipeline: the kept files of run %d: %w", e.run.ID, err)
		}
		st := e.steps[step]
		if st == nil || !filepath.IsLocal(filepath.FromSlash(name)) {
			continue
		}
		path := filepath.Join(e.files, filepath.FromSlash(name))
		if err := writeMissing(path, data); err != nil {
			return fmt.Errorf("pipeline: restore %s (output %s of step %s): %w", name, output, step, err)
		}
		e.setOutput(step, output, path)
	}
	return rows.Err()
}

// writeMissing writes data to path, 0600, unless a file is there already.
func writeMissing(path string, data []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
