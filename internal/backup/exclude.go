package backup

import "strings"

// tmpPrefix starts the name of every temporary file or directory, in the
// data dir (the blob store's) and in the repository (this package's).
const tmpPrefix = ".tmp-"

// Runtime files at the top of a data dir that a backup leaves out: the
// server's lock and published address, which belong to the running
// process, SQLite's side files, which only mean something next to the
// live database (the database itself is copied consistently instead), and
// the pipeline's tool cache; and the server's identity in backups, which
// a restored data dir must not share with the server it was taken from.
var excludedTop = map[string]bool{
	"lock":             true,
	"server.json":      true, // app.writeServerInfo
	"server.json.tmp":  true, // its temporary file
	ServerIDFile:       true, // a restored data dir is another server (serverid.go)
	"state.db-wal":     true,
	"state.db-shm":     true,
	"state.db-journal": true,
	"tools":            true, // package managers the pipeline installed: a cache, fetched again on use
	"homes":            true, // confined steps' homes (their npm caches): made again on use
}

// excludedPaths are deeper files a backup leaves out (and a restore skips,
// in snapshots taken before): the audit log's anchor (app.auditAnchor),
// the newest checkpoint the server signed, kept outside the database. It
// may be newer than the copy of the database beside it, which would then
// look cut short to 'phoenix audit verify'; a restored server writes its
// own from the restored log.
var excludedPaths = map[string]bool{
	"keys/audit.checkpoint": true,
}

// excluded reports whether the file or directory at rel (slash-separated,
// relative to the data dir) is left out of backups: at the top, the names
// above, "*.lock" (the server's phoenix.lock) and "server-info*"; the
// excludedPaths; at any depth, temporary files (".tmp-*"). Deeper files
// with runtime-like names are kept, since they belong to someone else.
func excluded(rel string) bool {
	name := rel[strings.LastIndexByte(rel, '/')+1:]
	if strings.HasPrefix(name, tmpPrefix) || excludedPaths[rel] {
		return true
	}
	if strings.Contains(rel, "/") {
		return false
	}
	return excludedTop[name] || strings.HasSuffix(name, ".lock") || strings.HasPrefix(name, "server-info")
}
