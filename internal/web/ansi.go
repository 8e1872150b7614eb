package web

import "regexp"

// ansiSeq matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks) and the other two-character escapes.
var ansiSeq = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]?`)

// withoutANSI drops the escape sequences a build's coloured output holds,
// which a page would show as "[31m" around the text.
func withoutANSI(s string) string {
	return ansiSeq.ReplaceAllString(s, "")
}
