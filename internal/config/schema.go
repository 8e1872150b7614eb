package config

import (
	"encoding/json"
	"maps"
	"reflect"
	"strconv"
	"strings"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://raw.githubusercontent.com/phoenixvc/phoenix/main/docs/phoenix.schema.json"

// schemaer is implemented by types that describe their own JSON Schema.
type schemaer interface {
	jsonSchema(g *schemaGen) map[string]any
}

var schemaerType = reflect.TypeFor[schemaer]()

// schemaGen builds a JSON Schema (draft 2020-12) from the config types,
// using the same struct tags the validator checks: yaml, doc, enum, min,
// max, pattern, keys, required.
type schemaGen struct {
	defs map[string]any
}

// Schema returns the JSON Schema of phoenix.yaml, indented, with a final
// newline; docs/phoenix.schema.json holds its output.
func Schema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.structSchema(reflect.TypeFor[Config]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "phoenix.yaml"
	root["description"] = "Phoenix project configuration. See docs/configuration.md."
	root["$defs"] = g.defs
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil { // only maps, slices and scalars: cannot fail
		return nil
	}
	return append(out, '\n')
}

// namedLists are the value lists a field's oneof tag names.
var namedLists = map[string][]string{"actions": Actions}

// schemaFor returns the schema of type t.
func (g *schemaGen) schemaFor(t reflect.Type) map[string]any {
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(schemaer).jsonSchema(g)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schemaFor(t.Elem())
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = true // placeholder against recursion
			g.defs[t.Name()] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schemaFor(t.Elem())}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schemaFor(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

// structSchema returns the object schema of struct type t.
func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fieldsOf(t) {
		sf := t.Field(f.index)
		props[f.name] = g.fieldSchema(sf)
		if sf.Tag.Get("required") == "true" {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fieldSchema applies a field's tags to its type's schema.
func (g *schemaGen) fieldSchema(sf reflect.StructField) map[string]any {
	s := maps.Clone(g.schemaFor(sf.Type))
	if d := sf.Tag.Get("doc"); d != "" {
		s["description"] = d
	}
	target := s // enum and pattern apply to items of a list
	if items, ok := s["items"].(map[string]any); ok {
		target = maps.Clone(items)
		s["items"] = target
	}
	if e := sf.Tag.Get("enum"); e != "" {
		target["enum"] = strings.Split(e, ",")
	}
	if l := sf.Tag.Get("oneof"); l != "" {
		target["enum"] = namedLists[l] // a list kept in Go (the built-in actions), so editors complete it
	}
	if p := sf.Tag.Get("pattern"); p != "" {
		target["pattern"] = patterns[p]
	}
	if k := sf.Tag.Get("keys"); k != "" {
		s["propertyNames"] = map[string]any{"pattern": patterns[k]}
	}
	for _, b := range []string{"min", "max"} {
		if v := sf.Tag.Get(b); v != "" {
			n, _ := strconv.ParseFloat(v, 64)
			s[map[string]string{"min": "minimum", "max": "maximum"}[b]] = n
		}
	}
	return s
}
