package config

import (
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeScalar decodes a string, number or boolean field.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, path, scalarWant(v.Kind()), "")
		return
	}
	switch v.Kind() {
	case reflect.String:
		if tag != "!!str" {
			d.typeErr(n, path, "a string", "quote the value: \""+clip(n.Value)+"\"")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			d.typeErr(n, path, "true or false", "")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(cleanNum(n.Value), 0, v.Type().Bits())
		if tag != "!!int" || err != nil {
			d.typeErr(n, path, "a whole number", "")
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, ok := parseFloat(n)
		if !ok {
			d.typeErr(n, path, "a number", "")
			return
		}
		v.SetFloat(f)
	default:
		d.add(n, path, "", "unsupported field type %s", v.Type())
	}
}

func scalarWant(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float64:
		return "a number"
	}
	return "a whole number"
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.ShortTag() != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	return b, err == nil
}

// parseFloat accepts an integer or finite float scalar.
func parseFloat(n *yaml.Node) (float64, bool) {
	if t := n.ShortTag(); t != "!!int" && t != "!!float" {
		return 0, false
	}
	f, err := strconv.ParseFloat(cleanNum(n.Value), 64)
	if err != nil {
		i, ierr := strconv.ParseInt(cleanNum(n.Value), 0, 64)
		if ierr != nil {
			return 0, false
		}
		f = float64(i)
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// cleanNum drops YAML digit separators and a leading plus sign.
func cleanNum(s string) string {
	return strings.TrimPrefix(strings.ReplaceAll(s, "_", ""), "+")
}

// decodeAny decodes free-form values (a step's "with") with yaml's own rules.
func (d *decoder) decodeAny(n *yaml.Node, v reflect.Value, path string) {
	var x any
	if err := n.Decode(&x); err != nil {
		d.add(n, path, "", "invalid value: %v", err)
		return
	}
	if x != nil {
		v.Set(reflect.ValueOf(x))
	}
}

var plainKeyRx = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends a key to a field path: a.b, or a["x.y"] for odd keys.
func joinPath(base, key string) string {
	if !plainKeyRx.MatchString(key) {
		return base + "[" + strconv.Quote(clip(key)) + "]"
	}
	if base == "" {
		return key
	}
	return base + "." + key
}

// indexPath appends a list index to a field path: a[3].
func indexPath(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}

// parentPath strips the last element of a field path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			// a quoted key may contain '[': find the bracket that opens it
			if j := strings.LastIndex(p, "[\""); j >= 0 && strings.HasSuffix(p, "\"]") {
				i = j
			}
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}
