package waf

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// MaxExclusions bounds edge.waf.exclude.
const MaxExclusions = 200

// excludable lists the ids of the rules edge.waf.exclude may remove: the
// detection rules of owasp-core as loaded (REQUEST-911 to 944 without the
// scanners' 913), read from the embedded rule files. Ids below NNN100 are
// the CRS's paranoia-level markers (skipAfter targets), not rules that
// match anything; 901, 905, 949 and 999 set up and score, and removing
// them would switch the CRS off rather than one rule.
var excludable = sync.OnceValue(func() map[int]bool {
	ids := map[int]bool{}
	files, _ := fs.Glob(coreruleset.FS, "@owasp_crs/REQUEST-9*.conf")
	idRx := regexp.MustCompile(`\bid:([0-9]{6})\b`)
	for _, f := range files {
		group, err := strconv.Atoi(path.Base(f)[len("REQUEST-") : len("REQUEST-")+3])
		if err != nil || group < 911 || group > 944 || group == 913 {
			continue
		}
		data, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			continue
		}
		for _, m := range idRx.FindAllSubmatch(data, -1) {
			if id, _ := strconv.Atoi(string(m[1])); id%1000 >= 100 {
				ids[id] = true
			}
		}
	}
	return ids
})

// parseExclude checks edge.waf.exclude and returns its ids sorted, without
// duplicates.
func parseExclude(ids []int) ([]int, []FieldError) {
	if len(ids) > MaxExclusions {
		return nil, []FieldError{{Field: "edge.waf.exclude", Message: fmt.Sprintf("%d rules; at most %d", len(ids), MaxExclusions),
			Hint: "remove owasp-core from rules rather than most of it"}}
	}
	known := excludable()
	var errs []FieldError
	for i, id := range ids {
		if known[id] {
			continue
		}
		e := FieldError{Field: "edge.waf.exclude[" + strconv.Itoa(i) + "]",
			Message: fmt.Sprintf("%d is not a rule of the OWASP Core Rule Set v4.25.0's owasp-core", id),
			Hint:    "give the number of a crs-NNNNNN id reported by phoenix_edge_waf_matches_total or the edge's log, e.g. 920420"}
		switch {
		case id/1000 == 913:
			e.Hint = "913 rules are the scanners rule set: remove scanners from edge.waf.rules instead"
		case id/1000 == 949 || id/1000 == 901 || id/1000 == 905 || id/1000 == 999:
			e.Hint = "that rule scores or sets up the CRS; to turn it off, remove owasp-core from edge.waf.rules"
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out), nil
}
