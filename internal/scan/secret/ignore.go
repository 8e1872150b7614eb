package secret

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// IgnoreFile is the name of the per-project ignore file at the scanned
// folder's root.
const IgnoreFile = ".phoenixignore"

// Ignore matches slash-separated relative paths against gitignore-style
// patterns: "#" comments, "!" negation (last match wins), a trailing "/"
// for folders, "*" within a name, "**" across folders, and patterns
// without a "/" match at any depth.
type Ignore struct {
	pats []ignorePat
}

type ignorePat struct {
	re     *regexp.Regexp
	negate bool
	dir    bool
}

// ParseIgnore reads patterns, one a line. Bad patterns are skipped.
func ParseIgnore(data []byte) *Ignore {
	ig := &Ignore{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		ig.Add(sc.Text())
	}
	return ig
}

// Add adds one pattern.
func (ig *Ignore) Add(line string) {
	p := strings.TrimSpace(line)
	if p == "" || strings.HasPrefix(p, "#") {
		return
	}
	var ip ignorePat
	if strings.HasPrefix(p, "!") {
		ip.negate, p = true, p[1:]
	}
	if strings.HasSuffix(p, "/") {
		ip.dir, p = true, strings.TrimSuffix(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
				b.WriteString("/?")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("(?:/.*)?$") // a folder pattern covers everything under it
	re, err := regexp.Compile(b.String())
	if err != nil {
		return
	}
	ip.re = re
	ig.pats = append(ig.pats, ip)
}

// Match reports whether rel (slash-separated, relative) is ignored. isDir
// says whether rel is a folder (patterns ending in "/" only match folders
// and what is below them).
func (ig *Ignore) Match(rel string, isDir bool) bool {
	if ig == nil {
		return false
	}
	ignored := false
	for _, p := range ig.pats {
		if p.dir && !isDir && !strings.Contains(rel, "/") {
			continue
		}
		if p.re.MatchString(rel) {
			ignored = !p.negate
		}
	}
	return ignored
}
