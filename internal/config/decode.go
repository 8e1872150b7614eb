package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// nodeDecoder is implemented (on the pointer) by types that decode
// themselves from a YAML node, such as Duration or Condition. They report
// problems through d and never panic.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// defaulter is implemented (on the pointer) by types with defaults; the
// decoder calls setDefaults on each new value before decoding into it.
type defaulter interface {
	setDefaults()
}

const (
	maxDepth = 64      // nesting limit
	maxNodes = 200_000 // node budget, counting alias expansions
)

// decoder is a strict YAML-node-to-struct decoder: unknown keys, duplicate
// keys and type mismatches are problems with a position and a field path.
type decoder struct {
	file   string
	probs  Problems
	pos    map[string]Pos
	budget int
	depth  int
	broke  bool // budget exhausted; reported once
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]Pos{}, budget: maxNodes}
}

func (d *decoder) add(n *yaml.Node, path, hint, format string, args ...any) {
	p := Problem{File: d.file, Field: path, Message: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	if p.Line < 1 {
		p.Line, p.Col = 1, 1
	}
	d.probs = append(d.probs, p)
}

// record remembers where path is defined.
func (d *decoder) record(path string, n *yaml.Node) {
	if _, ok := d.pos[path]; !ok && n != nil {
		d.pos[path] = Pos{n.Line, n.Column}
	}
}

// resolve follows aliases and charges the node budget; it returns nil when
// the document is too large or too deep to decode.
func (d *decoder) resolve(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxDepth {
			d.add(n, path, "", "alias chain is too long")
			return nil
		}
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 || d.depth > maxDepth {
		if !d.broke {
			d.broke = true
			d.add(n, path, "split the file or use fewer aliases", "document is too large or too deeply nested")
		}
		return nil
	}
	return n
}

var (
	nodeDecoderType = reflect.TypeFor[nodeDecoder]()
)

// newValue returns a new addressable value of type t with its defaults set.
func newValue(t reflect.Type) reflect.Value {
	v := reflect.New(t)
	if dv, ok := v.Interface().(defaulter); ok {
		dv.setDefaults()
	}
	return v.Elem()
}

// decode decodes n into v (addressable), naming the field path in problems.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n = d.resolve(n, path); n == nil {
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		if isNull(n) {
			d.add(n, path, "remove the key or give it a value", "has no value")
			return
		}
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n, path)
		return
	}
	if v.Kind() == reflect.Interface {
		d.decodeAny(n, v, path)
		return
	}
	if isNull(n) {
		d.add(n, path, "remove the key or give it a value", "has no value")
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(newValue(v.Type().Elem()).Addr())
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName describes a node for type errors.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "nothing"
		case "!!str":
			return "the string " + strconv.Quote(clip(n.Value))
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
	}
	return "an unsupported value"
}

// clip shortens s for messages.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}

// typeErr reports that n is not what the field wants.
func (d *decoder) typeErr(n *yaml.Node, path, want, hint string) {
	d.add(n, path, hint, "expected %s, got %s", want, kindName(n))
}

// pair is one key/value of a mapping, after merge keys are expanded.
type pair struct{ key, value *yaml.Node }

// pairs returns the entries of mapping n, expanding "<<" merge keys (explicit
// keys win), and reports duplicate and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var merged, own []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if k = d.resolve(k, path); k == nil {
			return nil
		}
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "", "keys must be plain strings")
			continue
		}
		own = append(own, pair{k, val})
	}
	seen := map[string]*yaml.Node{}
	var out []pair
	for _, p := range own {
		if first, dup := seen[p.key.Value]; dup {
			d.add(p.key, joinPath(path, p.key.Value), "remove one of them",
				"duplicate key %q (first defined on line %d)", clip(p.key.Value), first.Line)
			continue
		}
		seen[p.key.Value] = p.key
		out = append(out, p)
	}
	for _, p := range merged {
		if _, dup := seen[p.key.Value]; !dup {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// mergePairs returns the pairs a merge key's value contributes.
func (d *decoder) mergePairs(val *yaml.Node, path string) []pair {
	if val = d.resolve(val, path); val == nil {
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range val.Content {
			out = append(out, d.mergePairs(item, path)...)
		}
		return out
	}
	d.add(val, path, "", "merge key << needs a mapping or a list of mappings")
	return nil
}

// fieldInfo describes one yaml-tagged struct field.
type fieldInfo struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo

// fieldsOf lists the yaml-tagged fields of struct type t.
func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		out = append(out, fieldInfo{name, i})
	}
	fieldCache.Store(t, out)
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "a mapping", "")
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		fp := joinPath(path, key)
		fi, ok := findField(fields, key)
		if !ok {
			d.add(p.key, fp, didYouMean(key, fieldNames(fields)), "unknown key %q", clip(key))
			continue
		}
		d.record(fp, p.key)
		d.decode(p.value, v.Field(fi.index), fp)
	}
}

func findField(fields []fieldInfo, key string) (fieldInfo, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	return fieldInfo{}, false
}

func fieldNames(fields []fieldInfo) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.name
	}
	return out
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "a mapping", "")
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.add(n, path, "", "unsupported map key type")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, p := range d.pairs(n, path) {
		fp := joinPath(path, p.key.Value)
		d.record(fp, p.key)
		elem := newValue(v.Type().Elem())
		d.decode(p.value, elem, fp)
		v.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.typeErr(n, path, "a list", "write the items on lines starting with \"- \"")
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		ip := indexPath(path, i)
		d.record(ip, item)
		elem := newValue(v.Type().Elem())
		d.decode(item, elem, ip)
		out = reflect.Append(out, elem)
	}
	v.Set(out)
}
