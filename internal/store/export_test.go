package store

import (
	"context"
	"testing"
	"time"
)

// SplitStatementsForTest exposes splitStatements to the external tests.
var SplitStatementsForTest = splitStatements

// PostgresDDLForTest exposes the migration translation to the external tests.
var PostgresDDLForTest = postgresDDL

// SetPgDumpGlobForTest points the search for pg_dump outside PATH at glob.
func SetPgDumpGlobForTest(glob string) { pgDumpGlob = glob }

// LeaderKeepaliveForTest opens a connection as the leader lock's and
// returns its session's tcp_keepalives_idle.
func LeaderKeepaliveForTest(ctx context.Context, db *DB) (string, error) {
	conn, err := db.pgxConn(ctx, 15*time.Second, leaderSession)
	if err != nil {
		return "", err
	}
	defer closeConn(conn)
	var v string
	err = conn.QueryRow(ctx, "SHOW tcp_keepalives_idle").Scan(&v)
	return v, err
}

// TableChecksumForTest checksums table on src and dst as Copy does and
// returns "" when they agree, else what differs.
func TableChecksumForTest(ctx context.Context, src, dst *DB, table string) (string, error) {
	stx, err := src.DB.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer stx.Rollback()
	tx, err := dst.DB.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	n, err := count(ctx, stx, table)
	if err != nil {
		return "", err
	}
	_, err = compareTables(ctx, stx, tx, []string{table}, map[string]int64{table: n})
	if err != nil {
		return err.Error(), nil
	}
	return "", nil
}

// SetClaimCheckForTest makes claims taken during t check their connection
// every d.
func SetClaimCheckForTest(t *testing.T, d time.Duration) {
	old := claimCheck
	claimCheck = d
	t.Cleanup(func() { claimCheck = old })
}

// OwnerLockKeyForTest is the advisory lock key of a server's claim.
const OwnerLockKeyForTest = ownerLockKey
