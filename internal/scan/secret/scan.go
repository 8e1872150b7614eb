package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"
)

// Match is one secret found in a buffer. Secret is kept only inside this
// package: callers get Redacted and Fingerprint.
type Match struct {
	Rule        *Rule
	Line        int
	Column      int
	Redacted    string
	Fingerprint string
	start, end  int // byte span of the secret
	// also are the findings overlapping generic rules made of the same
	// secret before a provider's rule won over them: allowlist entries
	// written for those still apply.
	also []identity
	// shadow is a generic match whose name is a reference's or no
	// secret's (awsAccessKeyId, keyVaultName): never reported, it still
	// gives a provider's match of the same value its identity (also), as
	// before names were read.
	shadow bool
}

// identity is a rule and the fingerprint it gives a secret.
type identity struct{ rule, fingerprint string }

// identities are m's own and those of the generic matches it won over.
func (m Match) identities() []identity {
	return append([]identity{{m.Rule.ID, m.Fingerprint}}, m.also...)
}

// inlineAllow on the same line silences a finding.
const inlineAllow = "phoenix:allow-secret"

// scanner holds per-worker state.
type scanner struct {
	rs    *Ruleset
	pf    *prefilter
	buf   []byte   // a file's piece (scanLarge)
	known [][]byte // Options.Known
}

// prefilter finds keyword hits in one pass: a table of lowercased
// two-byte keyword prefixes, then a case-insensitive compare.
type prefilter struct {
	pair [1 << 16]bool
	kws  map[uint16][]kwHit
}

type kwHit struct {
	kw    string
	rules []int
}

var lc = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

func newPrefilter(rs *Ruleset) *prefilter {
	pf := &prefilter{kws: map[uint16][]kwHit{}}
	byKW := map[string][]int{}
	var order []string
	for i, r := range rs.Rules {
		for _, k := range r.Keywords {
			if byKW[k] == nil {
				order = append(order, k)
			}
			byKW[k] = append(byKW[k], i)
		}
	}
	for _, k := range order {
		if len(k) < 2 {
			k += k // a one-byte keyword: matched through its doubled form is wrong; keep it rare
		}
		key := uint16(k[0])<<8 | uint16(k[1])
		pf.pair[key] = true
		pf.kws[key] = append(pf.kws[key], kwHit{k, byKW[k]})
	}
	return pf
}

func (s *scanner) scan(data []byte) []Match {
	return s.scanNamed("", data)
}

// scanNamed scans the content of the file named name (its base name),
// with the rules that read such a file.
func (s *scanner) scanNamed(name string, data []byte) []Match {
	if s.pf == nil {
		s.pf = newPrefilter(s.rs)
	}
	n := len(s.rs.Rules)
	lastStart, lastEnd := make([]int, n), make([]int, n)
	seen := make([]map[int]bool, n)
	reads := make([]bool, n)
	for i := range lastStart {
		lastStart[i] = -1
		reads[i] = s.rs.Rules[i].reads(name)
	}
	var out []Match
	lines := &lineOf{data: data}
	for i := 0; i+1 < len(data); i++ {
		key := uint16(lc[data[i]])<<8 | uint16(lc[data[i+1]])
		if !s.pf.pair[key] {
			continue
		}
		for _, h := range s.pf.kws[key] {
			if !hasFold(data[i:], h.kw) {
				continue
			}
			for _, ri := range h.rules {
				r := &s.rs.Rules[ri]
				if !reads[ri] {
					continue
				}
				start, end := lines.window(i, r.Multiline)
				if r.Reach > 0 && end-start > 8*r.Reach {
					// read around the keyword, from a name's start, unless
					// the last such window covers its reach
					if max(start, i-r.Reach) >= lastStart[ri] && min(end, i+r.Reach) <= lastEnd[ri] {
						continue
					}
					ws := max(start, i-r.Reach)
					for ws > start && nameChar[data[ws-1]] && i-ws < 2*r.Reach {
						ws--
					}
					start, end = ws, min(end, i+3*r.Reach)
					lastStart[ri], lastEnd[ri] = start, end
				} else {
					if start <= lastStart[ri] && !r.Multiline || start == lastStart[ri] {
						continue
					}
					lastStart[ri], lastEnd[ri] = start, end
				}
				if !r.mayMatch(data[start:end]) {
					continue
				}
				if seen[ri] == nil {
					seen[ri] = map[int]bool{}
				}
				out = s.matchWindow(r, lines, start, end, seen[ri], out)
			}
		}
	}
	return dropNested(append(out, s.knownIn(lines)...))
}

func hasFold(b []byte, kw string) bool {
	if len(b) < len(kw) {
		return false
	}
	for j := 0; j < len(kw); j++ {
		if lc[b[j]] != kw[j] {
			return false
		}
	}
	return true
}

// hasRun reports whether b holds n consecutive characters other than
// whitespace and quotes, the shape of every secret value (symbols
// included: a password's).
func hasRun(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if !breaksRun[c] {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

var breaksRun = func() (t [256]bool) {
	for _, c := range []byte(" \t\r\n\v\f\"'`") {
		t[c] = true
	}
	return t
}()

// nameChar are the characters of a name (a value is assigned to).
var nameChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = charClass(byte(c)) != otherChar || c == '_' || c == '.' || c == '-'
	}
	return t
}()

// mayMatch reports whether the window b passes the rule's cheap checks,
// each a condition its regular expression needs (those cost ~100 ns a
// byte: a quoted generic rule's over every line naming a password made
// the scan 2.5 times slower): a run of MinRun token characters, the
// strings of Needs, and for a Quoted rule an assignment (quotedAssignment).
func (r *Rule) mayMatch(b []byte) bool {
	if r.MinRun > 0 && !hasRun(b, r.MinRun) {
		return false
	}
	for _, n := range r.Needs {
		if !bytes.Contains(b, []byte(n)) {
			return false
		}
	}
	return !r.Quoted || quotedAssignment(b, max(r.MinLength, 1), r.Keywords)
}

// quotedAssignment reports whether b has an assignment (':', '=', and so
// ':=' and '=>') of a quoted value of at least min bytes before its
// closing quote or the line's end, to a name holding one of keywords
// (lower case; any name when there are none): the shape of name = "value"
// and "name": 'value' the quoted generic rules match, whose names must
// hold one of their keywords (a bare "value" takes its name from the line
// above, and "value" is one of them).
func quotedAssignment(b []byte, min int, keywords []string) bool {
	for i, c := range b {
		if c != ':' && c != '=' && (c != '>' || i == 0 || b[i-1] != '=') {
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && (b[j] == '"' || b[j] == '\'' || b[j] == '`') && quotedLen(b[j+1:], b[j]) >= min &&
			(len(keywords) == 0 || namesKeyword(b[:i], keywords)) {
			return true
		}
	}
	return false
}

// namesKeyword reports whether the name an assignment ending b assigns to
// holds one of keywords: the word of [\w.-] before it (past spaces and a
// quote, and the first character of ':=' or '=>'), or, when that word
// follows a ':', the word before that too (a type: name: string = "v").
func namesKeyword(b []byte, keywords []string) bool {
	end := len(b)
	if end > 0 && (b[end-1] == ':' || b[end-1] == '=') {
		end-- // ':=' and '=>'
	}
	for range 2 {
		end = len(bytes.TrimRight(b[:end], " \t\"'`"))
		start := end
		for start > 0 && nameChar[b[start-1]] {
			start--
		}
		for _, k := range keywords {
			if hasFoldIn(b[start:end], k) {
				return true
			}
		}
		if end = len(bytes.TrimRight(b[:start], " \t")); end == 0 || b[end-1] != ':' {
			return false
		}
		end--
	}
	return false
}

// hasFoldIn reports whether b holds kw (lower case), ASCII case folded.
func hasFoldIn(b []byte, kw string) bool {
	for i := 0; i+len(kw) <= len(b); i++ {
		if hasFold(b[i:], kw) {
			return true
		}
	}
	return false
}

// quotedLen is the length of b before its first q a backslash does not
// escape, or before a line break: a quoted value's, b starting after its
// opening quote q. A value the window cuts counts to the window's end.
func quotedLen(b []byte, q byte) int {
	for k := 0; k < len(b); k++ {
		switch b[k] {
		case q, '\n', '\r':
			return k
		case '\\':
			k++
		}
	}
	return len(b)
}

// lineOf finds the line around a position in data, remembering the last
// one found: a file of one long line (a minified bundle, a source map) has
// its ends searched for once, not at each of its keyword hits, which made
// a 4 MiB one-line bundle take seconds.
type lineOf struct {
	data       []byte
	start, end int // the line found last, data[start:end] (end at its '\n' or len(data))
	found      bool
	allow      int8 // whether that line holds inlineAllow: 0 not known yet, 1 yes, -1 no
	counted    int  // newlines in data[:countedTo], for where
	countedTo  int
}

// line returns the bounds of the line holding pos.
func (l *lineOf) line(pos int) (int, int) {
	if l.found && pos >= l.start && pos <= l.end {
		return l.start, l.end
	}
	l.start = bytes.LastIndexByte(l.data[:pos], '\n') + 1
	l.end = len(l.data)
	if i := bytes.IndexByte(l.data[pos:], '\n'); i >= 0 {
		l.end = pos + i
	}
	l.found, l.allow = true, 0
	return l.start, l.end
}

// allowed reports whether the line holding pos has inlineAllow, searched
// once a line: a minified bundle's line has thousands of matches.
func (l *lineOf) allowed(pos int) bool {
	start, end := l.line(pos)
	if l.allow == 0 {
		l.allow = -1
		if bytes.Contains(l.data[start:end], []byte(inlineAllow)) {
			l.allow = 1
		}
	}
	return l.allow > 0
}

// window is the line around pos, or for multi-line rules from its start
// to 16 KiB past pos.
func (l *lineOf) window(pos int, multi bool) (int, int) {
	start, end := l.line(pos)
	if multi {
		return start, min(len(l.data), pos+16<<10)
	}
	return start, end
}

// where is the line number and column (both from 1) of pos.
func (l *lineOf) where(pos int) (line, col int) {
	start, _ := l.line(pos)
	if start < l.countedTo { // findings come mostly in order: count on from the last
		l.counted, l.countedTo = 0, 0
	}
	l.counted += bytes.Count(l.data[l.countedTo:start], []byte{'\n'})
	l.countedTo = start
	return 1 + l.counted, pos - start + 1
}

func (s *scanner) matchWindow(r *Rule, lines *lineOf, start, end int, seen map[int]bool, out []Match) []Match {
	data := lines.data
	for _, m := range r.re.FindAllSubmatchIndex(data[start:end], -1) {
		a, b := -1, -1
		for _, g := range r.secretGroups {
			if m[2*g] >= 0 {
				a, b = m[2*g], m[2*g+1]
				break
			}
		}
		if a < 0 {
			continue
		}
		if _, le := lines.line(start); start+b == end && end < le {
			continue // cut by the end of a window around a keyword (Reach): the window of a later one reads it whole
		}
		if seen[start+a] {
			continue
		}
		seen[start+a] = true
		secret := data[start+a : start+b]
		if !s.keep(r, secret) || lines.allowed(start+a) {
			continue
		}
		line, col := lines.where(start + a)
		out = append(out, Match{Rule: r, Line: line, Column: col, Redacted: Redact(string(secret)), Fingerprint: Fingerprint(r.ID, secret),
			start: start + a, end: start + b, shadow: r.nameGroups != nil && !r.nameOK(assignedTo(r, lines, start, m))})
	}
	return out
}

// assignedTo is the name of match m (a match of r in the window of data
// at start): its name group, or for a bare "value" the name on the line
// above (nameAbove).
func assignedTo(r *Rule, lines *lineOf, start int, m []int) string {
	data := lines.data
	a, b := -1, -1
	for _, g := range r.nameGroups {
		if m[2*g] >= 0 {
			a, b = m[2*g], m[2*g+1]
			break
		}
	}
	if a < 0 || !sameQuotes(data, start+a, start+b) {
		return ""
	}
	for _, g := range r.secretGroups {
		if m[2*g] >= 0 && !sameQuotes(data, start+m[2*g], start+m[2*g+1]) {
			return ""
		}
	}
	name := strings.TrimLeft(string(data[start+a:start+b]), "-.")
	if strings.EqualFold(name, "value") {
		ls, _ := lines.line(start + a)
		return nameAbove(data, ls)
	}
	return name
}

// sameQuotes reports whether data[a:b] is in the same quotes on both
// sides, or has none before it: "PWD="+dir is no name PWD.
func sameQuotes(data []byte, a, b int) bool {
	if a == 0 || data[a-1] != '"' && data[a-1] != '\'' && data[a-1] != '`' {
		return true
	}
	return b < len(data) && data[b] == data[a-1]
}

// keep reports whether secret, matched by r, is one (the line's
// inlineAllow is the caller's to check).
func (s *scanner) keep(r *Rule, secret []byte) bool {
	if len(secret) < r.MinLength || r.MaxLength > 0 && len(secret) > r.MaxLength {
		return false
	}
	if r.Mixed && !mixed(secret) || r.MaxSpaces > 0 && bytes.Count(secret, []byte{' '}) > r.MaxSpaces || r.SkipNames && looksLikeName(secret) {
		return false
	}
	for _, re := range r.notValues {
		if re.Match(secret) {
			return false
		}
	}
	if r.Entropy > 0 && Entropy(secret) < r.Entropy {
		return false
	}
	if r.RequireDigit && (!bytes.ContainsAny(secret, "0123456789") || !containsLetter(secret)) {
		return false
	}
	if hasStopWord(string(secret), s.rs.Allowlist.StopWords) {
		return false
	}
	for _, re := range s.rs.Allowlist.res {
		if re.Match(secret) {
			return false
		}
	}
	return true
}

// Redact keeps a short prefix (at most 4 characters and a fifth of the
// secret) and masks the rest: "AKIA…(20 chars)". It counts characters,
// not bytes, and never cuts one in two ("pä…(10 chars)"), so the prefix
// stays valid UTF-8 in JSON and SARIF.
func Redact(secret string) string {
	n := utf8.RuneCountInString(secret)
	keep, i := min(4, n/5), 0
	for k := 0; k < keep; k++ {
		_, size := utf8.DecodeRuneInString(secret[i:])
		i += size
	}
	return secret[:i] + "…(" + itoa(n) + " chars)"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// Fingerprint identifies a secret without revealing it: the first 16 hex
// digits of SHA-256 over the rule id and the secret. Allowlist entries use
// it, so the same accepted value is recognised in any file: a provider's
// rule wins over a generic one on the same value (dropNested), so the
// value, not its surroundings, decides the rule the fingerprint names.
func Fingerprint(ruleID string, secret []byte) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write(secret)
	return ruleID + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// dropNested keeps one finding per secret. Of two overlapping matches a
// provider's rule (an AWS key id's format) wins over a generic one (a value
// assigned to "key"), whatever the order of the rules: the value, not the
// words around it, decides the rule and so the severity and fingerprint.
// Otherwise a match inside another one goes (an account key inside a
// connection string); of identical spans the earlier rule stays.
//
// Only overlapping matches are compared: ms is cut into runs of matches
// that overlap one another (by start), each settled alone, so a file with
// many findings (a minified bundle) takes n log n, not n².
func dropNested(ms []Match) []Match {
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ms[a].start - ms[b].start })
	var kept []int // indexes in ms of the matches kept, out of order
	var settled []Match
	for lo := 0; lo < len(order); {
		hi, end := lo+1, ms[order[lo]].end
		for hi < len(order) && ms[order[hi]].start < end {
			end = max(end, ms[order[hi]].end)
			hi++
		}
		run := slices.Clone(order[lo:hi])
		slices.Sort(run) // the order of ms decides ties
		sub := make([]Match, len(run))
		for k, i := range run {
			sub[k] = ms[i]
		}
		for _, k := range dropNestedRun(sub) {
			kept = append(kept, run[k])
			settled = append(settled, sub[k])
		}
		lo = hi
	}
	idx := make([]int, len(kept))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return kept[a] - kept[b] })
	out := make([]Match, 0, len(kept))
	for _, i := range idx {
		out = append(out, settled[i])
	}
	return out
}

// dropNestedRun is dropNested for matches that may overlap: the indexes
// of those kept, with their also filled in.
func dropNestedRun(ms []Match) []int {
	var out []int
	for i, m := range ms {
		if !m.shadow && !beaten(ms, i) {
			out = append(out, i)
		}
	}
	for _, k := range out {
		for i, m := range ms {
			if m.Rule.Generic && !ms[k].Rule.Generic && overlap(m, ms[k]) && beaten(ms, i) {
				ms[k].also = append(ms[k].also, identity{m.Rule.ID, m.Fingerprint})
			}
		}
	}
	return out
}

// beaten reports whether another match wins over ms[i].
func beaten(ms []Match, i int) bool {
	m := ms[i]
	for j, o := range ms {
		if i == j || o.shadow || !overlap(m, o) {
			continue
		}
		if m.Rule.Generic != o.Rule.Generic {
			if m.Rule.Generic {
				return true
			}
			continue
		}
		if o.start <= m.start && m.end <= o.end && (o.end-o.start > m.end-m.start || j < i) {
			return true
		}
	}
	return false
}

func overlap(a, b Match) bool {
	return a.start < b.end && b.start < a.end
}
