package store

import (
	"database/sql/driver"
	"errors"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// sqliteFull is SQLite's SQLITE_FULL: "database or disk is full".
const sqliteFull = 13

// DiskFull reports whether err says a disk is full: a file write's
// ENOSPC, SQLite's SQLITE_FULL, or PostgreSQL's disk_full (53100, the
// database server's disk). Callers tell the user so instead of "internal
// error": it is not a secret, and it is what an operator must fix.
func DiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53100"
}

// Unreachable reports whether err says the database could not be reached:
// a connection to PostgreSQL refused or broken, or PostgreSQL shutting down
// or not yet accepting connections (class 08, 57P01-57P03). A network error
// of another kind (a blob store's) is not the database's.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}
