// Package license finds the licence of every installed package (lockfile,
// node_modules/*/package.json, LICENSE texts of Go modules), evaluates SPDX
// expressions (AND, OR, WITH) against an allow/deny/review policy and
// reports what needs attention. Strong copyleft licences such as GPL-3.0
// are flagged for review by default.
package license

import (
	"fmt"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
)

// Term is one way to satisfy an expression: every licence in it applies.
type Term []string

// maxTerms bounds the disjunctive form so hostile input cannot blow up.
const maxTerms = 64

// Parse turns an SPDX expression into disjunctive normal form: the package
// may be used under any one Term. "A WITH E" stays one licence id. Ids are
// normalised to the SPDX list's case where known.
func Parse(expr string) ([]Term, error) {
	toks := tokenize(expr)
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty licence expression")
	}
	p := &parser{toks: toks}
	terms, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("licence %q: %w", clip(expr), err)
	}
	if p.i != len(toks) {
		return nil, fmt.Errorf("licence %q: unexpected %q", clip(expr), toks[p.i])
	}
	return terms, nil
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

type parser struct {
	toks []string
	i    int
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) or() ([]Term, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "OR") {
		p.i++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = append(left, right...)
		if len(left) > maxTerms {
			return nil, fmt.Errorf("too many alternatives")
		}
	}
	return left, nil
}

func (p *parser) and() ([]Term, error) {
	left, err := p.atom()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "AND") {
		p.i++
		right, err := p.atom()
		if err != nil {
			return nil, err
		}
		if len(left)*len(right) > maxTerms {
			return nil, fmt.Errorf("too many alternatives")
		}
		var out []Term
		for _, a := range left {
			for _, b := range right {
				out = append(out, append(append(Term{}, a...), b...))
			}
		}
		left = out
	}
	return left, nil
}

func (p *parser) atom() ([]Term, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("expression ends early")
	case t == "(":
		p.i++
		if p.i > 200 {
			return nil, fmt.Errorf("nested too deeply")
		}
		terms, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return terms, nil
	case t == ")" || isOp(t):
		return nil, fmt.Errorf("unexpected %q", t)
	}
	p.i++
	id := normalizeID(t)
	if strings.EqualFold(p.peek(), "WITH") {
		p.i++
		exc := p.peek()
		if exc == "" || exc == "(" || exc == ")" || isOp(exc) {
			return nil, fmt.Errorf("WITH needs an exception id")
		}
		p.i++
		id += " WITH " + exc
	}
	return []Term{{id}}, nil
}

func isOp(t string) bool {
	return strings.EqualFold(t, "AND") || strings.EqualFold(t, "OR") || strings.EqualFold(t, "WITH")
}

// normalizeID fixes case against the SPDX list and maps deprecated GPL
// family ids ("GPL-3.0", "GPL-3.0+") to their current form.
func normalizeID(id string) string {
	plus := strings.HasSuffix(id, "+")
	base := strings.TrimSuffix(id, "+")
	if ok, canon := spdxexp.ActiveLicense(base); ok {
		base = canon
	}
	if isFamily(base) && !strings.HasSuffix(base, "-only") && !strings.HasSuffix(base, "-or-later") {
		if plus {
			return base + "-or-later"
		}
		return base + "-only"
	}
	if plus {
		return base + "+"
	}
	return base
}

// isFamily: the GNU licences that come in -only and -or-later forms.
func isFamily(id string) bool {
	for _, p := range []string{"GPL-", "LGPL-", "AGPL-", "GFDL-"} {
		if strings.HasPrefix(strings.ToUpper(id), p) {
			return true
		}
	}
	return false
}

// Known reports whether id is on the SPDX licence list or a LicenseRef,
// and in "A WITH E" whether E is also on the SPDX exceptions list:
// "Apache-2.0 WITH Commons-Clause" is not a licence anyone has defined.
func Known(id string) bool {
	id, exc, with := strings.Cut(id, " WITH ")
	if with {
		if ok, _ := spdxexp.ValidateLicenses([]string{"MIT WITH " + exc}); !ok {
			return false
		}
	}
	if IsLicenseRef(id) {
		return true
	}
	ok, _ := spdxexp.ValidateLicenses([]string{strings.TrimSuffix(id, "+")})
	return ok
}

// IsLicenseRef reports whether id is a LicenseRef-: valid SPDX, but a
// licence its author defined, whose terms no list gives.
func IsLicenseRef(id string) bool { return strings.HasPrefix(id, "LicenseRef-") }

// family strips "-only", "-or-later" and "+": "GPL-3.0-or-later" -> "GPL-3.0".
func family(id string) string {
	id, _, _ = strings.Cut(id, " WITH ")
	for _, s := range []string{"-only", "-or-later", "+"} {
		id = strings.TrimSuffix(id, s)
	}
	return strings.ToUpper(id)
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
