package api

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/suggest"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Param is a query parameter a route accepts. The route's list is both
// its documentation and the check every request gets before the
// handler runs (checkQuery): a parameter the route does not list is
// refused rather than ignored, so that a script's typo (?stauts=failed)
// is not answered as if no filter were given.
type Param struct {
	Name, Description string
	// Values, when set, are the only values accepted.
	Values []string
	// Number accepts a positive whole number only.
	Number bool
	// Repeat lets the parameter be given more than once (a list);
	// otherwise a second one is refused, as only the first would be read.
	Repeat bool
}

// textParam is a parameter whose value its handler checks, if at all.
func textParam(name, description string) Param {
	return Param{Name: name, Description: description}
}

// boolParam is a parameter that is true or false: anything else (yes, 1)
// is refused rather than read as false.
func boolParam(name, description string) Param {
	return Param{Name: name, Description: description, Values: []string{"true", "false"}}
}

// numberParam is a parameter that is a positive whole number.
func numberParam(name, description string) Param {
	return Param{Name: name, Description: description, Number: true}
}

// maxShown is how much of a value or name an error repeats.
const maxShown = 64

// checkQuery returns what is wrong with raw, the query string of a
// request to rt: a malformed one, a parameter rt does not accept, one
// given twice that is not a list, or a value not of its parameter's
// form. Empty values count as left out, as the handlers read them. The
// value of an unknown parameter is never repeated: it may be a token
// put in the wrong place.
func checkQuery(rt Route, raw string) error {
	if rt.AnyQuery || raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return usererr.New(usererr.Invalid, "query string: %s", clip(err.Error(), 2*maxShown)).
			WithHint("separate parameters with & and escape the values (%%26 for &)")
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		i := slices.IndexFunc(rt.Query, func(p Param) bool { return p.Name == name })
		if i < 0 {
			return unknownParam(rt, name)
		}
		if err := rt.Query[i].check(q[name]); err != nil {
			return err
		}
	}
	return nil
}

// unknownParam is the refusal of a parameter rt does not accept, naming
// the one it most likely meant and those it accepts.
func unknownParam(rt Route, name string) error {
	shown := clip(name, maxShown)
	names := make([]string, len(rt.Query))
	for i, p := range rt.Query {
		names[i] = p.Name
	}
	if len(names) == 0 {
		return usererr.New(usererr.Invalid, "unknown query parameter %q: %s takes none", shown, rt.Pattern()).
			WithHint("leave the query string out")
	}
	hint := rt.Pattern() + " accepts " + strings.Join(names, ", ")
	if best := suggest.Best(name, names); best != "" {
		hint = "did you mean " + best + "? " + hint
	}
	return usererr.New(usererr.Invalid, "unknown query parameter %q", shown).WithHint("%s", hint)
}

// check returns what is wrong with the values given for p.
func (p Param) check(values []string) error {
	if len(values) > 1 && !p.Repeat {
		return usererr.New(usererr.Invalid, "query parameter %s is given %d times (%s)", p.Name, len(values), quoteAll(values)).
			WithHint("give it once")
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		if want := p.wrong(v); want != "" {
			return usererr.New(usererr.Invalid, "query parameter %s %q: want %s", p.Name, clip(v, maxShown), want)
		}
	}
	return nil
}

// wrong returns the form v should have had, or "" when it has it.
func (p Param) wrong(v string) string {
	if p.Values != nil && !slices.Contains(p.Values, v) {
		return "one of " + strings.Join(p.Values, ", ")
	}
	if !p.Number {
		return ""
	}
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return "a positive number"
	}
	return ""
}

// quoteAll quotes the first few of values, for a message.
func quoteAll(values []string) string {
	var out []string
	for _, v := range values[:min(len(values), 3)] {
		out = append(out, strconv.Quote(clip(v, maxShown)))
	}
	if len(values) > 3 {
		out = append(out, "…")
	}
	return strings.Join(out, ", ")
}

// schema is the parameter's OpenAPI schema.
func (p Param) schema() map[string]any {
	s := map[string]any{"type": "string"}
	switch {
	case p.Values != nil:
		s["enum"] = p.Values
	case p.Number:
		s = map[string]any{"type": "integer", "minimum": 1}
	}
	if p.Repeat {
		return map[string]any{"type": "array", "items": s}
	}
	return s
}
