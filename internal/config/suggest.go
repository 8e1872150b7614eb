package config

import sg "github.com/phoenixvc/phoenix/internal/suggest"

// suggest returns the candidate closest to word, or "" when none is close
// enough to be a plausible typo (suggest.Best).
func suggest(word string, candidates []string) string { return sg.Best(word, candidates) }

// didYouMean formats a hint for suggest's answer, or "" without one.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return "did you mean " + s + "?"
	}
	return ""
}
