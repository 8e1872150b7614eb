package secret

// What a matched value looks like: its stop words, its classes of
// characters, its entropy (scanner.keep decides with them).

import (
	"math"
	"strings"
)

// hasStopWord reports whether one of words (lowercase) is whole words of
// secret, in any case: "example" is in "example-key-2", "EXAMPLE0123" and
// "myExampleKey", not in "q8Rsample4Lx" nor "xyzexamplePq" (a random value
// that merely holds its letters); a word of one repeated character
// ("xxxxxx") is in any longer run of it ("ghp_xxxxxxxxxxxx").
func hasStopWord(secret string, words []string) bool {
	low := asciiLower(secret)
	for _, w := range words {
		if w == "" {
			continue
		}
		run := strings.Count(w, w[:1]) == len(w)
		for off := 0; ; {
			i := strings.Index(low[off:], w)
			if i < 0 {
				break
			}
			i += off
			j := i + len(w)
			for run && j < len(low) && low[j] == w[0] {
				j++
			}
			if wordBoundary(secret, i) && wordBoundary(secret, j) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// wordBoundary reports whether position i of s starts or ends a word: at
// either end of s, next to a character other than an ASCII letter or
// digit, between a letter and a digit, and where a capital starts a word
// (lower to upper case, "myKey"; before the last of capitals followed by a
// lower-case letter, "XMLHttp").
func wordBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	a, b := charClass(s[i-1]), charClass(s[i])
	switch {
	case a == otherChar || b == otherChar:
		return true
	case a == digitChar || b == digitChar:
		return a != b
	case a == lowerChar && b == upperChar:
		return true
	case a == upperChar && b == upperChar:
		return i+1 < len(s) && charClass(s[i+1]) == lowerChar
	}
	return false
}

// asciiLower lowers ASCII letters only, so positions stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lc[c]
	}
	return string(b)
}

const (
	otherChar = iota
	lowerChar
	upperChar
	digitChar
)

func charClass(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return lowerChar
	case c >= 'A' && c <= 'Z':
		return upperChar
	case c >= '0' && c <= '9':
		return digitChar
	}
	return otherChar
}

func containsLetter(b []byte) bool {
	for _, c := range b {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			return true
		}
	}
	return false
}

// Entropy is the Shannon entropy of b in bits per byte.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h := 0.0
	n := float64(len(b))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
