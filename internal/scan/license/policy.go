package license

import (
	"strings"
)

// Verdicts, from best to worst.
const (
	Allow   = "allow"
	Review  = "review"
	Deny    = "deny"
	Unknown = "unknown" // only as a licence state; the policy maps it to one of the above
)

// Policy maps licence ids to verdicts. An entry "GPL-3.0" matches
// GPL-3.0-only, GPL-3.0-or-later and GPL-3.0+.
type Policy struct {
	Allow  []string // accepted; when not empty, anything else needs review
	Deny   []string // fail the release
	Review []string // need an approval (an exception) before release
	// Unknown is the verdict for a package whose licence is missing or not
	// an SPDX id: allow, review (default) or deny.
	Unknown string
	// NoCopyleftReview turns off the built-in rule that strong copyleft
	// licences (GPL, AGPL, LGPL, SSPL, EUPL, OSL, CC-BY-SA...) and
	// source-available ones (BUSL, Elastic, PolyForm...) not listed
	// anywhere need review.
	NoCopyleftReview bool
}

// DefaultPolicy denies the network copyleft licences and sends the other
// strong copyleft ones, GPL-3.0 included, to review.
func DefaultPolicy() Policy {
	return Policy{Deny: []string{"AGPL-1.0", "AGPL-3.0", "SSPL-1.0"}, Unknown: Review}
}

var copyleft = []string{"GPL-", "AGPL-", "LGPL-", "SSPL-", "EUPL-", "OSL-", "CC-BY-SA-", "CC-BY-NC", "CPAL-", "RPL-", "SLEEPYCAT", "QPL-"}

// restricted are the source-available and no-derivatives licences, which
// limit production or commercial use or changes (the Business Source
// License, the Elastic License, PolyForm, Parity, Hippocratic,
// CC-BY-ND): review by default, like strong copyleft.
var restricted = []string{"BUSL-", "ELASTIC-", "POLYFORM-", "PARITY-", "HIPPOCRATIC-", "CC-BY-ND-"}

// VerdictOf one licence id (possibly "X WITH Y").
func (p Policy) VerdictOf(id string) string {
	f := family(id)
	in := func(list []string) bool {
		for _, e := range list {
			if strings.EqualFold(e, id) || family(e) == f && !strings.Contains(strings.ToLower(e), "-only") && !strings.Contains(strings.ToLower(e), "-or-later") {
				return true
			}
		}
		return false
	}
	switch {
	case in(p.Deny):
		return Deny
	case in(p.Review):
		return Review
	case in(p.Allow):
		return Allow
	case !Known(id) || IsLicenseRef(id):
		return p.unknown() // a LicenseRef's terms are unknown until a list names it
	case len(p.Allow) > 0:
		return Review
	case !p.NoCopyleftReview && isCopyleft(f):
		return Review
	}
	return Allow
}

func isCopyleft(fam string) bool {
	for _, c := range append(copyleft[:len(copyleft):len(copyleft)], restricted...) {
		if strings.HasPrefix(fam, c) {
			return true
		}
	}
	return false
}

func (p Policy) unknown() string {
	switch p.Unknown {
	case Allow, Deny:
		return p.Unknown
	}
	return Review
}

// Evaluate returns the verdict for an expression: the best alternative
// (OR), each alternative as bad as its worst licence (AND). An empty or
// unparseable expression gets the policy's unknown verdict.
func (p Policy) Evaluate(expr string) (verdict string, terms []Term, err error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return p.unknown(), nil, nil
	}
	terms, err = Parse(expr)
	if err != nil {
		return p.unknown(), nil, err
	}
	best := Deny
	for _, t := range terms {
		worst := Allow
		for _, id := range t {
			worst = worse(worst, p.VerdictOf(id))
		}
		best = better(best, worst)
	}
	return best, terms, nil
}

func rank(v string) int {
	switch v {
	case Allow:
		return 0
	case Review:
		return 1
	}
	return 2
}

func worse(a, b string) string {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func better(a, b string) string {
	if rank(b) < rank(a) {
		return b
	}
	return a
}
