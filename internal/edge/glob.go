package edge

import "strings"

// glob is a compiled path glob of a header rule (PolicyRule.Path):
//
//   - "" and "/*" match every path;
//   - '*' matches any run of characters, '/' included, so "/assets/*"
//     matches everything below /assets/ and "/*.html" every .html page;
//   - every other character matches itself, case-sensitively.
//
// The path is the request's cleaned path (before the site's rewrites),
// without the query.
type glob struct {
	all    bool
	prefix string   // literal text before the first '*'
	parts  []string // literal pieces after each '*' (the last may be "")
	exact  bool     // no '*': the path must equal prefix
}

func compileGlob(pattern string) glob {
	if pattern == "" || pattern == "/*" {
		return glob{all: true}
	}
	pieces := strings.Split(pattern, "*")
	return glob{prefix: pieces[0], parts: pieces[1:], exact: len(pieces) == 1}
}

func (g *glob) match(p string) bool {
	switch {
	case g.all:
		return true
	case g.exact:
		return p == g.prefix
	case !strings.HasPrefix(p, g.prefix):
		return false
	}
	rest := p[len(g.prefix):]
	for i, part := range g.parts {
		last := i == len(g.parts)-1
		switch {
		case last:
			return strings.HasSuffix(rest, part)
		case part == "":
			continue // "**"
		}
		j := strings.Index(rest, part)
		if j < 0 {
			return false
		}
		rest = rest[j+len(part):]
	}
	return true
}
