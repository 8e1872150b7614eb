package executor

import "regexp"

// ansiSeq matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks) and the other two-character escapes.
var ansiSeq = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]?`)

// WithoutANSI drops the escape sequences a build's coloured output holds,
// which a page, a CLI table or a chat message would show as "[31m"
// around the text. Logs keep them (a terminal following them shows the
// colours); what is shown as text (step errors, a failure's last lines,
// the dashboard's log) goes through this.
func WithoutANSI(s string) string {
	return ansiSeq.ReplaceAllString(s, "")
}
