package waf

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A FieldError is a problem with one field of phoenix.yaml's edge.waf:
// Field is its path ("edge.waf.custom_rules[2].match[0].operator").
type FieldError struct {
	Field, Message, Hint string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// usage turns e into the usererr New returns.
func (e FieldError) usage() error {
	return usererr.New(usererr.Usage, "%s", e.Error()).WithHint("%s", e.Hint)
}

// CheckRules checks edge.waf.exclude and edge.waf.custom_rules as New
// does, returning every problem (config.Validate reports them with
// phoenix.yaml's line numbers).
func CheckRules(exclude []int, rules []CustomRule) []FieldError {
	_, errs := parseExclude(exclude)
	_, cerrs := parseCustomRules(rules)
	return append(errs, cerrs...)
}

var slugRx = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// parseCustomRules checks and compiles rules, sorted by priority.
func parseCustomRules(rules []CustomRule) ([]*customRule, []FieldError) {
	var errs []FieldError
	fail := func(field, hint, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	if len(rules) > MaxCustomRules {
		fail("edge.waf.custom_rules", "merge rules: one rule's values are alternatives", "%d rules; at most %d", len(rules), MaxCustomRules)
		return nil, errs
	}
	names, prios := map[string]int{}, map[int]int{}
	out := make([]*customRule, 0, len(rules))
	for i, cr := range rules {
		p := "edge.waf.custom_rules[" + strconv.Itoa(i) + "]"
		if !slugRx.MatchString(cr.Name) {
			fail(p+".name", "use lowercase letters, digits and '-', at most 40 characters, e.g. block-admin", "%q is not a rule name", clip(cr.Name))
		} else if j, dup := names[cr.Name]; dup {
			fail(p+".name", "names must be unique", "duplicate name %q (also custom_rules[%d])", cr.Name, j)
		} else {
			names[cr.Name] = i
		}
		if cr.Priority < 0 {
			fail(p+".priority", "rules run in ascending priority from 0", "%d is negative", cr.Priority)
		} else if j, dup := prios[cr.Priority]; dup {
			fail(p+".priority", "give each rule its own priority", "%d is also custom_rules[%d]'s priority", cr.Priority, j)
		} else {
			prios[cr.Priority] = i
		}
		switch cr.Action {
		case ActionBlock, ActionAllow, ActionLog:
		default:
			fail(p+".action", "use block, allow or log", "%q is not an action", clip(cr.Action))
		}
		rule := &customRule{id: "custom-" + cr.Name, action: cr.Action, prio: cr.Priority}
		if len(cr.Match) == 0 || len(cr.Match) > MaxConditions {
			fail(p+".match", "give 1 to "+strconv.Itoa(MaxConditions)+" conditions; all must hold", "has %d conditions", len(cr.Match))
		}
		for j, c := range cr.Match {
			k, cerrs := parseCondition(p+".match["+strconv.Itoa(j)+"]", c)
			errs = append(errs, cerrs...)
			rule.conds = append(rule.conds, k)
		}
		out = append(out, rule)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sortRules(out)
	return out, nil
}

// parseCondition checks and compiles one condition at field p.
func parseCondition(p string, c Condition) (*condition, []FieldError) {
	var errs []FieldError
	fail := func(field, hint, format string, args ...any) {
		errs = append(errs, FieldError{Field: p + field, Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	k := &condition{op: c.Operator, negate: c.Negate}
	okVar := k.setVariable(c.Variable)
	if !okVar {
		fail(".variable", "use "+strings.Join(VariableNames, ", "), "%q is not a variable", clip(c.Variable))
	}
	if !slices.Contains(OperatorNames, c.Operator) {
		fail(".operator", "use "+strings.Join(OperatorNames, ", "), "%q is not an operator", clip(c.Operator))
	} else if okVar && (c.Operator == opIPMatch) != (c.Variable == "remote_addr") {
		fail(".operator", "remote_addr takes ip_match; ip_match takes remote_addr", "%s does not apply to %s", c.Operator, c.Variable)
	}
	for i, t := range c.Transforms {
		f, ok := transforms[t]
		if !ok {
			fail(".transforms["+strconv.Itoa(i)+"]", "use "+strings.Join(TransformNames, ", "), "%q is not a transform", clip(t))
		}
		k.transforms = append(k.transforms, f)
	}
	switch {
	case c.Operator == opAny && len(c.Values) > 0:
		fail(".values", "remove values: any only tests that the variable exists", "any takes no values")
	case c.Operator != opAny && (len(c.Values) == 0 || len(c.Values) > MaxValues):
		fail(".values", "give 1 to "+strconv.Itoa(MaxValues)+" values; any of them matches", "has %d values", len(c.Values))
	}
	for i, v := range c.Values {
		if err := k.addValue(v); err != nil {
			fail(".values["+strconv.Itoa(i)+"]", err.Hint, "%s", err.Message)
		}
	}
	return k, errs
}

// addValue compiles one operand for k's operator.
func (k *condition) addValue(v string) *FieldError {
	if len(v) > MaxValueLen {
		return &FieldError{Message: fmt.Sprintf("is %d bytes; at most %d", len(v), MaxValueLen)}
	}
	switch k.op {
	case opRegex:
		if len(v) > MaxRegexLen {
			return &FieldError{Message: fmt.Sprintf("the regex is %d bytes; at most %d", len(v), MaxRegexLen)}
		}
		rx, err := regexp.Compile(v)
		if err != nil {
			return &FieldError{Message: fmt.Sprintf("%q is not a regular expression: %v", clip(v), err),
				Hint: "Go RE2 syntax (https://golang.org/s/re2syntax); no lookarounds or backreferences"}
		}
		k.rx = append(k.rx, rx)
	case opIPMatch:
		pfx, ok := parsePrefix(v)
		if !ok {
			return &FieldError{Message: fmt.Sprintf("%q is not an IP address or range", clip(v)), Hint: "write e.g. 198.51.100.0/24, 2001:db8::/32 or 203.0.113.7"}
		}
		k.prefixes = append(k.prefixes, pfx)
	default:
		k.values = append(k.values, v)
	}
	return nil
}

// parsePrefix reads an address or a CIDR range, IPv4-mapped IPv6 as IPv4.
func parsePrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}
