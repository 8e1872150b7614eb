package osv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// Match tells whether version (as the ecosystem writes it) is affected by
// r. fixed is the first fixed version above it, when one is known. An error
// names the advisory and the version that could not be compared.
func (r *Record) Match(version string) (affected bool, fixed string, err error) {
	eco := Ecosystem(r.Ecosystem)
	v := normalize(eco, version)
	for _, listed := range r.Versions {
		if normalize(eco, listed) == v {
			affected = true
		}
	}
	pv, err := semantic.Parse(v, eco)
	if err != nil {
		return affected, "", fmt.Errorf("advisory %s, %s %s: %w", r.ID, r.Name, version, err)
	}
	for i, rg := range r.Ranges {
		if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
			continue
		}
		hit, fix, err := inRange(pv, eco, rg)
		if err != nil {
			return affected, "", fmt.Errorf("advisory %s, %s ranges[%d]: %w", r.ID, r.Name, i, err)
		}
		if hit {
			affected, fixed = true, fix
			break
		}
	}
	if affected && fixed == "" {
		fixed = r.firstFixedAbove(pv, eco)
	}
	return affected, fixed, nil
}

func normalize(eco, v string) string {
	if eco == "Go" {
		return strings.TrimPrefix(v, "v")
	}
	return v
}

type point struct {
	kind int // 0 introduced, 1 fixed, 2 last_affected, 3 limit
	ver  string
	zero bool
}

// inRange walks the events in version order: introduced turns the state
// on, fixed (at or below v) and last_affected (below v) turn it off.
func inRange(v semantic.Version, eco string, rg Range) (bool, string, error) {
	pts := make([]point, 0, len(rg.Events))
	for _, e := range rg.Events {
		switch {
		case e.Introduced != "":
			pts = append(pts, point{0, normalize(eco, e.Introduced), e.Introduced == "0"})
		case e.Fixed != "":
			pts = append(pts, point{1, normalize(eco, e.Fixed), false})
		case e.LastAffected != "":
			pts = append(pts, point{2, normalize(eco, e.LastAffected), false})
		case e.Limit != "":
			pts = append(pts, point{3, normalize(eco, e.Limit), false})
		}
	}
	cmp := make([]int, len(pts)) // sign of (v - event version)
	for i, p := range pts {
		if p.zero {
			cmp[i] = 1
			continue
		}
		c, err := v.CompareStr(p.ver)
		if err != nil {
			return false, "", fmt.Errorf("event version %q: %w", p.ver, err)
		}
		cmp[i] = c
	}
	order, err := sortPoints(pts, eco)
	if err != nil {
		return false, "", err
	}
	affected, fixed := false, ""
	for _, i := range order {
		p, c := pts[i], cmp[i]
		switch {
		case p.kind == 0 && c >= 0:
			affected = true
		case p.kind == 1 && c >= 0, p.kind == 2 && c > 0:
			affected = false
		case p.kind == 1 && affected && fixed == "":
			fixed = p.ver
		case p.kind == 3 && c >= 0:
			affected = false
		}
	}
	return affected, fixed, nil
}

// sortPoints orders event indexes by version ("0" first).
func sortPoints(pts []point, eco string) ([]int, error) {
	order := make([]int, len(pts))
	parsed := make([]semantic.Version, len(pts))
	for i, p := range pts {
		order[i] = i
		if !p.zero {
			pv, err := semantic.Parse(p.ver, eco)
			if err != nil {
				return nil, fmt.Errorf("event version %q: %w", p.ver, err)
			}
			parsed[i] = pv
		}
	}
	var bad error
	sort.SliceStable(order, func(a, b int) bool {
		pa, pb := pts[order[a]], pts[order[b]]
		if pa.zero || pb.zero {
			return pa.zero && !pb.zero
		}
		c, err := parsed[order[a]].Compare(parsed[order[b]])
		if err != nil {
			bad = err
		}
		return c < 0
	})
	return order, bad
}

func (r *Record) firstFixedAbove(v semantic.Version, eco string) string {
	best := ""
	var bestV semantic.Version
	for _, rg := range r.Ranges {
		for _, e := range rg.Events {
			if e.Fixed == "" {
				continue
			}
			f := normalize(eco, e.Fixed)
			if c, err := v.CompareStr(f); err != nil || c >= 0 {
				continue
			}
			fv, err := semantic.Parse(f, eco)
			if err != nil {
				continue
			}
			if best == "" {
				best, bestV = f, fv
			} else if c, err := fv.Compare(bestV); err == nil && c < 0 {
				best, bestV = f, fv
			}
		}
	}
	return best
}
