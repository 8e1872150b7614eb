package osv

import (
	"math"
	"strconv"
	"strings"
)

// Severity is a qualitative rating with the CVSS score it came from, when
// there was one.
type Severity struct {
	Level  string  `json:"level"` // critical, high, moderate, low, none or unknown
	Score  float64 `json:"score,omitempty"`
	Vector string  `json:"vector,omitempty"`
}

// Levels from worst to best.
const (
	Critical = "critical"
	High     = "high"
	Moderate = "moderate"
	Low      = "low"
	None     = "none"
	Unknown  = "unknown"
)

// Rank orders levels: critical 4, high 3, moderate 2, low 1, others 0.
func Rank(level string) int {
	switch strings.ToLower(level) {
	case Critical:
		return 4
	case High:
		return 3
	case Moderate, "medium":
		return 2
	case Low:
		return 1
	}
	return 0
}

func (e *Entry) severity() Severity { return severityOf(e.Severity, e.DatabaseSpecific) }

// severityOf prefers a CVSS v3 vector (scored here), then the database's
// own label (database_specific.severity), then any other vector unscored.
func severityOf(items []SeverityItem, db map[string]any) Severity {
	for _, it := range items {
		if strings.HasPrefix(it.Type, "CVSS_V3") {
			if score, ok := CVSS3Score(it.Score); ok {
				return Severity{Level: levelOf(score), Score: score, Vector: it.Score}
			}
		}
	}
	if s, ok := db["severity"].(string); ok && Rank(s) > 0 {
		l := strings.ToLower(s)
		if l == "medium" {
			l = Moderate
		}
		return Severity{Level: l}
	}
	for _, it := range items {
		return Severity{Level: Unknown, Vector: it.Score}
	}
	return Severity{Level: Unknown}
}

func levelOf(score float64) string {
	switch {
	case score >= 9:
		return Critical
	case score >= 7:
		return High
	case score >= 4:
		return Moderate
	case score > 0:
		return Low
	}
	return None
}

// CVSS3Score computes the CVSS v3.0/v3.1 base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".
func CVSS3Score(vector string) (float64, bool) {
	parts := strings.Split(vector, "/")
	if len(parts) < 9 || !strings.HasPrefix(parts[0], "CVSS:3") {
		return 0, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, false
		}
		m[k] = v
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := map[string]float64{}
	for k, table := range weights {
		v, ok := table[m[k]]
		if !ok {
			return 0, false
		}
		w[k] = v
	}
	changed := m["S"] == "C"
	if m["S"] != "U" && !changed {
		return 0, false
	}
	pr, ok := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}[m["PR"]]
	if !ok {
		return 0, false
	}
	if changed && m["PR"] == "L" {
		pr = 0.68
	} else if changed && m["PR"] == "H" {
		pr = 0.5
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, true
	}
	expl := 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
	if changed {
		return roundUp(math.Min(1.08*(impact+expl), 10)), true
	}
	return roundUp(math.Min(impact+expl, 10)), true
}

// roundUp is CVSS 3.1's Roundup: the smallest one-decimal number >= x.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// String is "high (7.5)" or "high".
func (s Severity) String() string {
	if s.Score > 0 {
		return s.Level + " (" + strconv.FormatFloat(s.Score, 'f', 1, 64) + ")"
	}
	return s.Level
}
