package waf

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// scannerData is CRS rule 913100's list of security scanners' User-Agents.
const scannerData = "@owasp_crs/scanners-user-agents.data"

// uaList matches User-Agent headers the way CRS's @pmFromFile does: a
// case-insensitive (ASCII) substring match of any phrase in the list. The
// phrases are grouped by their first byte, so one pass over the header
// compares only the phrases that can start at each position.
type uaList struct {
	byFirst [256][]string // lower-case phrases by their first byte
}

var scannerList = sync.OnceValue(func() *uaList {
	data, err := coreruleset.FS.(interface{ ReadFile(string) ([]byte, error) }).ReadFile(scannerData)
	if err != nil {
		panic("waf: the embedded Core Rule Set lacks " + scannerData + ": " + err.Error())
	}
	return parseUAList(data)
})

// parseUAList reads a CRS .data file: one phrase a line, # comments.
func parseUAList(data []byte) *uaList {
	l := &uaList{}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := strings.ToLower(strings.TrimSpace(s.Text()))
		if line != "" && !strings.HasPrefix(line, "#") {
			l.byFirst[line[0]] = append(l.byFirst[line[0]], line)
		}
	}
	return l
}

// matches reports whether a User-Agent value holds a listed phrase.
func (l *uaList) matches(h http.Header) bool {
	if l == nil {
		return false
	}
	for _, ua := range h.Values("User-Agent") {
		for i := 0; i < len(ua); i++ {
			for _, p := range l.byFirst[lower(ua[i])] {
				if hasPrefixFold(ua[i:], p) {
					return true
				}
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case prefix p,
// ignoring ASCII case.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower(s[i]) != p[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasUserAgent reports whether h has a User-Agent and none of its values is
// empty: the bad-bots test, CRS rules 920320 (missing) and 920330 (empty).
func hasUserAgent(h http.Header) bool {
	uas := h.Values("User-Agent")
	for _, ua := range uas {
		if ua == "" {
			return false
		}
	}
	return len(uas) > 0
}
