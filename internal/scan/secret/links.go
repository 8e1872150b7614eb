package secret

import (
	"os"

	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// outsideMsg ends the warning of a file not read for leading outside the
// folder scanned: what the link leads to is not the project's content
// (a hostile repository's notes.txt -> /var/lib/phoenix/...), and it is
// not named.
const outsideMsg = ": not scanned: a symbolic link leading outside the folder scanned"

// outsideLink reports whether the symbolic link rel of root leads outside
// it; if so it is counted (stats "outside") and named in a warning. One
// that stays inside is not followed either: what it leads to is scanned
// at its own path.
func outsideLink(root *os.Root, rel string, r *report.Report) bool {
	if root == nil {
		return false
	}
	if _, err := root.Stat(rel); !lockfile.IsEscape(err) {
		return false
	}
	r.Stats["outside"]++
	r.Warnings = append(r.Warnings, rel+outsideMsg)
	return true
}

// readIgnore reads IgnoreFile at root's top, an empty Ignore when there
// is none; one that is a symbolic link leading outside is not read, and a
// warning says so.
func readIgnore(root *os.Root, r *report.Report) *Ignore {
	if root == nil {
		return &Ignore{}
	}
	data, err := root.ReadFile(IgnoreFile)
	if lockfile.IsEscape(err) {
		r.Warnings = append(r.Warnings, IgnoreFile+": not read: a symbolic link leading outside the folder scanned")
	}
	if err != nil {
		return &Ignore{} // none, or unreadable: everything is scanned
	}
	return ParseIgnore(data)
}
