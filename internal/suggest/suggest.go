// Package suggest finds the names closest to a mistyped one, for the "did
// you mean" hints of configuration files and the command line.
package suggest

import (
	"slices"
	"strings"
)

// Best returns the candidate closest to word by edit distance (case
// insensitive), or "" when none is close enough to be a plausible typo: at
// most max(2, a third of word's length) edits away, else the only candidate
// word abbreviates (prod for production).
func Best(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := Distance(w, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len([]rune(word))/3)
	if bestDist >= 0 && bestDist <= limit {
		return best
	}
	return prefixMatch(w, candidates)
}

// Nearest returns the candidates at the smallest edit distance from word
// (case insensitive), in their order, without repeats; nil for none.
func Nearest(word string, candidates []string) []string {
	w := strings.ToLower(word)
	var out []string
	best := -1
	for _, c := range candidates {
		switch d := Distance(w, strings.ToLower(c)); {
		case best < 0 || d < best:
			out, best = []string{c}, d
		case d == best && !slices.Contains(out, c):
			out = append(out, c)
		}
	}
	return out
}

// prefixMatch returns the only candidate that starts with w (or that w
// starts with), for abbreviations like prod for production.
func prefixMatch(w string, candidates []string) string {
	if len(w) < 3 {
		return ""
	}
	found := ""
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if strings.HasPrefix(lc, w) || strings.HasPrefix(w, lc) && len(lc) >= 3 {
			if found != "" {
				return ""
			}
			found = c
		}
	}
	return found
}

// Distance is the Levenshtein distance between a and b, counted in runes.
// Past 256 runes it is not computed: the longer length stands for it.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		return max(len(ra), len(rb))
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
