package config

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Condition is one check on a probe's response. It is written either as a
// mapping {type: status, value: 200} or as a Gatus-style string such as
// "[STATUS] == 200", "[RESPONSE_TIME] < 500", "[BODY].status == UP" or
// "[CERTIFICATE_EXPIRATION] > 48h".
type Condition struct {
	Type     string // status, response_time, body, header, certificate_expiration, connected, ip
	Operator string // ==, !=, <, <=, >, >=
	Value    string // right-hand side as written
	Path     string // JSON path into the body, or the header name
	Func     string // "", "len" or "has", applied to the left-hand side
	Raw      string // the string form, when written as a string
}

// ConditionTypes lists the condition types.
var ConditionTypes = []string{"status", "response_time", "body", "header", "certificate_expiration", "connected", "ip"}

var (
	gatusPlaceholders = `STATUS|RESPONSE_TIME|BODY|CERTIFICATE_EXPIRATION|CONNECTED|IP`
	gatusRe           = `^\s*((len|has)\()?\[(` + gatusPlaceholders + `)\](\.[A-Za-z0-9_.\[\]-]+)?\)?\s*(==|!=|<=|>=|<|>)\s*(\S.*)$`
	gatusRx           = regexp.MustCompile(gatusRe)
	placeholderRx     = regexp.MustCompile(`\[([A-Za-z_]+)\]`)
)

// conditionFields is the mapping form of a Condition.
type conditionFields struct {
	Type     string `yaml:"type" required:"true" enum:"status,response_time,body,header,certificate_expiration,connected,ip" doc:"What is checked."`
	Operator string `yaml:"operator" enum:"==,!=,<,<=,>,>=" doc:"Comparison; default == (< for response_time, > for certificate_expiration)."`
	Value    Scalar `yaml:"value" required:"true" doc:"Expected value, e.g. 200, 500 (ms), \"48h\", UP."`
	Path     string `yaml:"path" doc:"JSON path into the body (type body) or header name (type header)."`
}

func (c *Condition) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		c.parseString(d, n, path)
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, `a condition such as "[STATUS] == 200" or {type: status, value: 200}`, "")
		return
	}
	var f conditionFields
	d.decodeStruct(n, reflect.ValueOf(&f).Elem(), path)
	*c = Condition{Type: f.Type, Operator: f.Operator, Value: string(f.Value), Path: f.Path}
	if c.Operator == "" {
		c.Operator = defaultOperator(c.Type)
	}
}

func defaultOperator(typ string) string {
	switch typ {
	case "response_time":
		return "<"
	case "certificate_expiration":
		return ">"
	}
	return "=="
}

func (c *Condition) parseString(d *decoder, n *yaml.Node, path string) {
	m := gatusRx.FindStringSubmatch(n.Value)
	if m == nil {
		hint := `write e.g. "[STATUS] == 200" or "[RESPONSE_TIME] < 500"`
		if ph := placeholderRx.FindStringSubmatch(n.Value); ph != nil {
			if s := suggest(ph[1], strings.Split(gatusPlaceholders, "|")); s != "" && s != ph[1] {
				hint = "did you mean [" + s + "]?"
			}
		}
		d.add(n, path, hint, "%q is not a valid condition", clip(n.Value))
		return
	}
	*c = Condition{Func: m[2], Type: strings.ToLower(m[3]), Path: strings.TrimPrefix(m[4], "."),
		Operator: m[5], Value: strings.TrimSpace(m[6]), Raw: n.Value}
}

func (Condition) jsonSchema(g *schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string", "pattern": gatusRe},
		g.structSchema(reflect.TypeFor[conditionFields]()),
	}}
}

// Scalar is a string, number or boolean kept as written.
type Scalar string

func (s *Scalar) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, path, "a string, number or boolean", "")
		return
	}
	*s = Scalar(n.Value)
}

func (Scalar) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": []any{"string", "number", "boolean"}}
}

func (c *Condition) validate(v *validator, p string) {
	if c.Type == "" {
		v.errorf(p+".type", "use one of "+strings.Join(ConditionTypes, ", "), "is required")
		return
	}
	if !slices.Contains(ConditionTypes, c.Type) {
		v.enum(p+".type", c.Type, ConditionTypes)
		return
	}
	if c.Raw == "" && c.Operator != "" {
		v.enum(p+".operator", c.Operator, []string{"==", "!=", "<", "<=", ">", ">="})
	}
	if c.Value == "" {
		v.errorf(p, "give the expected value", "has no value to compare with")
		return
	}
	ordered := !strings.Contains("==!=", c.Operator)
	switch c.Type {
	case "status":
		if !validStatusValue(c.Value) {
			v.errorf(p, "use an HTTP status such as 200, or any(200, 204)", "%q is not an HTTP status", clip(c.Value))
		}
	case "response_time", "certificate_expiration":
		if _, err := ParseDuration(c.Value); err != nil && !isNumber(c.Value) {
			v.errorf(p, `write a number of milliseconds or a duration such as "48h"`, "%q is not a duration", clip(c.Value))
		}
	case "connected":
		if c.Value != "true" && c.Value != "false" {
			v.errorf(p, "compare [CONNECTED] with true or false", "%q is not a boolean", clip(c.Value))
		}
	case "header":
		if c.Path == "" {
			v.errorf(p, "set path to the header name", "a header condition needs the header name in path")
		}
	}
	if ordered && (c.Type == "connected" || c.Type == "ip") {
		v.errorf(p, "use == or !=", "%s cannot be compared with %s", c.Type, c.Operator)
	}
}

func validStatusValue(s string) bool {
	if inner, ok := strings.CutPrefix(s, "any("); ok && strings.HasSuffix(inner, ")") {
		for _, part := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
			if !validStatusValue(strings.TrimSpace(part)) {
				return false
			}
		}
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 100 && n <= 599
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// String returns the Gatus-style form of the condition.
func (c Condition) String() string {
	if c.Raw != "" {
		return c.Raw
	}
	lhs := "[" + strings.ToUpper(c.Type) + "]"
	if c.Path != "" {
		lhs += "." + c.Path
	}
	if c.Func != "" {
		lhs = c.Func + "(" + lhs + ")"
	}
	return lhs + " " + c.Operator + " " + c.Value
}
