package store

// SplitStatementsForTest exposes splitStatements to the external tests.
var SplitStatementsForTest = splitStatements

// PostgresDDLForTest exposes the migration translation to the external tests.
var PostgresDDLForTest = postgresDDL

// SetPgDumpGlobForTest points the search for pg_dump outside PATH at glob.
func SetPgDumpGlobForTest(glob string) { pgDumpGlob = glob }
