package notify

import (
	"fmt"
	"net/url"
	"strings"
)

// SplitLinks splits links into those a channel shows as buttons and those
// it folds into the message's text, for channels that show at most max
// buttons (Teams 6, a connector card 4, Slack 5) and would drop the rest.
// All are buttons when there are at most max; otherwise the links to a
// site (a domain's front page: a deployment's domains) are folded, so the
// others (the dashboard's pages, a run's) stay buttons and no domain is
// lost. Should those others still be too many, the last of them are
// folded too.
func SplitLinks(links []Link, max int) (buttons, folded []Link) {
	if len(links) <= max {
		return links, nil
	}
	for _, l := range links {
		if l.Site() {
			folded = append(folded, l)
		} else {
			buttons = append(buttons, l)
		}
	}
	if len(buttons) > max {
		folded = append(folded, buttons[max:]...)
		buttons = buttons[:max]
	}
	return buttons, folded
}

// Site reports whether l opens a site's front page rather than a page of
// the dashboard or a run.
func (l Link) Site() bool {
	u, err := url.Parse(l.URL)
	return err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}

// FoldedTitle heads links SplitLinks folded: Sites when they all are.
func FoldedTitle(links []Link) string {
	for _, l := range links {
		if !l.Site() {
			return "Links"
		}
	}
	return "Sites"
}

// maxFoldedLinks bounds the folded links a message lists, to keep it
// within what receivers take.
const maxFoldedLinks = 50

// FoldLines renders folded links one a line, each as line renders it (a
// channel's own link markup), the 50th on as "and N more".
func FoldLines(links []Link, line func(Link) string) string {
	var lines []string
	for i, l := range links {
		if i == maxFoldedLinks {
			lines = append(lines, fmt.Sprintf("and %d more", len(links)-i))
			break
		}
		lines = append(lines, line(l))
	}
	return strings.Join(lines, "\n")
}
