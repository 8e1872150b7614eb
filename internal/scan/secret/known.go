package secret

import "bytes"

// runSecret is the rule of a finding of a known secret value
// (Options.Known): one a pipeline run resolved, written into a file (by a
// build that inlines build.env into the bundle, say).
var runSecret = &Rule{ID: "run-secret", Severity: "critical",
	Description: "A secret this run resolved from the vault (build.env, a step's secrets), written into a file"}

// minKnown is the shortest known value looked for: shorter ones match
// ordinary text.
const minKnown = 8

// knownIn finds the known values in data, as written.
func (s *scanner) knownIn(lines *lineOf) []Match {
	data := lines.data
	var out []Match
	for _, v := range s.known {
		if len(v) < minKnown {
			continue
		}
		for off := 0; ; {
			i := bytes.Index(data[off:], v)
			if i < 0 {
				break
			}
			start := off + i
			if !lines.allowed(start) {
				line, col := lines.where(start)
				out = append(out, Match{Rule: runSecret, Line: line, Column: col, Redacted: Redact(string(v)),
					Fingerprint: Fingerprint(runSecret.ID, v), start: start, end: start + len(v)})
			}
			off = start + len(v)
		}
	}
	return out
}
