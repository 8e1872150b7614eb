package swa

import (
	"cmp"
	"fmt"
	"slices"
)

// rewriteUse says what a rewrite target serves, for MissingFiles' message.
type rewriteUse uint8

const (
	useFallback rewriteUse = iota // navigationFallback.rewrite
	useRoute                      // routes[i].rewrite
	useOverride                   // responseOverrides.NNN.rewrite
)

// rewriteRef is a rewrite target as written, with where it stands in the
// file (at, a Problem without its message), kept for MissingFiles.
type rewriteRef struct {
	at   Problem
	path string // the target's path, without its query
	use  rewriteUse
}

// noteRewrite keeps the rewrite target path (node n, field f) for
// MissingFiles. A target under /api/ or /.auth/ names no file.
func (v *validator) noteRewrite(n *jnode, f, path string, use rewriteUse) {
	if isAPIPath(path) || isAuthPath(path) {
		return
	}
	v.rewrites = append(v.rewrites, rewriteRef{at: v.problem(n.off, f, ""), path: path, use: use})
}

// MissingFiles warns of each rewrite (navigationFallback, a route's, a
// response override's) whose target is no file of fs, looked up as
// Decide looks it up (a folder's index.html, page.html for /page). The
// cloud accepts such a config, so Parse cannot see it; only a caller
// holding the site's files can (phoenix validate, serve, deploy). The
// warnings come in file order.
func (c *Config) MissingFiles(fs FileSystem) []Problem {
	var out []Problem
	for _, r := range c.rewrites {
		if c.serves(r, fs) {
			continue
		}
		p := r.at
		p.Msg = fmt.Sprintf("%s is no file of the site; Azure accepts such a config, and %s. "+
			"Fix the path (file names are case-sensitive), or have the build write that file", r.path, missingEffect[r.use])
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Problem) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	return out
}

// missingEffect says what the requests a missing rewrite target serves
// get, on Azure as on Phoenix's edge: a rewrite serves a file only when
// it exists, and a rewritten path with no file goes on to the navigation
// fallback, then 404 (spec §6, docs/swa.md).
var missingEffect = [...]string{
	useFallback: "then every path with no file of its own (a single-page app's deep links) answers 404 instead of the app",
	useRoute:    "looks the rewritten path up as it would a request's: the route's requests get navigationFallback's target, or 404 without one, instead of that file",
	useOverride: "then the override's status goes out with the platform's error page instead of that file",
}

// serves reports whether the rewrite r finds a file in fs, by the lookup
// Decide makes for it.
func (c *Config) serves(r rewriteRef, fs FileSystem) bool {
	if r.use == useFallback {
		return fs.Exists(fallbackFile(r.path))
	}
	if isConfigFile(r.path) {
		return false // never served, as in Decide
	}
	file, _ := c.resolve(r.path, true, fs)
	return file != ""
}

// fallbackFile is the file navigationFallback's rewrite target serves:
// the target itself, or a folder's index.html.
func fallbackFile(rewrite string) string {
	if rewrite != "" && rewrite[len(rewrite)-1] == '/' {
		return rewrite + "index.html"
	}
	return rewrite
}
