package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
)

// StoredLogCap is the most of one step's log kept in the database: its
// first StoredLogCap bytes, then a line saying what was cut. The file in
// the runner's data dir keeps up to Options.LogCap.
const StoredLogCap = 4 << 20

// storesLogs reports whether finished steps' logs go to the database:
// with a Runner (servers sharing the database), so that any of them can
// serve a finished run's logs once the one that ran it is gone.
func (s *Service) storesLogs() bool {
	return s.opts.Runner != nil && s.opts.Runner() != ""
}

// storeLog copies step's finished log file (written through the masker,
// so it holds no secret the run knew) into the database, compressed.
func (s *Service) storeLog(ctx context.Context, run int64, step string) {
	if !s.storesLogs() {
		return
	}
	gz, size, err := compressLog(s.logPath(run, step))
	if err == nil {
		_, err = s.opts.DB.ExecContext(ctx, `INSERT INTO pipeline_step_logs (run_id, step, size, gz) VALUES ($1, $2, $3, $4)
			ON CONFLICT (run_id, step) DO UPDATE SET size = excluded.size, gz = excluded.gz`, run, step, size, gz)
	}
	if err != nil {
		s.log.Warn("pipeline: the step's log is not stored in the database; only this server can serve it", "run", run, "step", step, "err", err)
	}
}

// compressLog gzips the first StoredLogCap bytes of the file at path.
func compressLog(path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	n, err := io.Copy(zw, io.LimitReader(f, StoredLogCap))
	if err != nil {
		return nil, 0, fmt.Errorf("read the step's log: %w", err)
	}
	if rest, _ := io.Copy(io.Discard, f); rest > 0 {
		m, _ := fmt.Fprintf(zw, "\n[phoenix: %d more bytes of this log are only on the server that ran it]\n", rest)
		n += int64(m)
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return b.Bytes(), n, nil
}

// storedLog returns step's log from the database; ok is false when none
// is stored.
func (s *Service) storedLog(ctx context.Context, run int64, step string) (data []byte, ok bool, err error) {
	var gz []byte
	err = s.opts.DB.QueryRowContext(ctx, `SELECT gz FROM pipeline_step_logs WHERE run_id = $1 AND step = $2`, run, step).Scan(&gz)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pipeline: read the stored log of step %s of run %d: %w", step, run, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, false, fmt.Errorf("pipeline: the stored log of step %s of run %d: %w", step, run, err)
	}
	data, err = io.ReadAll(io.LimitReader(zr, StoredLogCap+1<<10))
	if err != nil {
		return nil, false, fmt.Errorf("pipeline: the stored log of step %s of run %d: %w", step, run, err)
	}
	return data, true, nil
}
