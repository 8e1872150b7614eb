package api

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/version"
)

// OpenAPI returns the OpenAPI 3 document of the registered routes. It is
// generated from the route table, so it lists exactly what is served.
func (a *API) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}, names: map[string]reflect.Type{}}
	g.defs["Error"] = g.schema(reflect.TypeOf(Error{}))
	paths := map[string]any{}
	for _, rt := range a.table {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = g.operation(rt)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Phoenix API", "version": version.Version,
			"description": "Every error is {code, message, hint, request_id}. Lists are pages: {items, next_cursor}."},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "API, deploy or admin token"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie, "description": "dashboard session; state changes also need the " + CSRFHeader + " header"},
			},
		},
	}
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, a.OpenAPI())
}

func (g *schemaGen) operation(rt Route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt),
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
		"responses":   g.responses(rt),
	}
	var params []any
	for _, p := range rt.pathParams() {
		params = append(params, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, p := range rt.Query {
		params = append(params, map[string]any{"name": p.Name, "in": "query", "description": p.Description, "schema": p.schema()})
	}
	if params != nil {
		op["parameters"] = params
	}
	switch body := rt.Request.(type) {
	case nil:
	case string:
		op["requestBody"] = map[string]any{"required": true, "description": body,
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	case []byte:
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
	default:
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(body))}}}
	}
	if rt.Public {
		op["security"] = []any{}
	} else {
		op["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}}
		if rt.Perm != "" {
			op["x-permission"] = string(rt.Perm)
		}
	}
	return op
}

func (g *schemaGen) responses(rt Route) map[string]any {
	errRef := map[string]any{"description": "error", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	ok := map[string]any{"description": "success"}
	if rt.Response != nil && rt.status() != http.StatusNoContent {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
	}
	out := map[string]any{strconv.Itoa(rt.status()): ok, "default": errRef}
	if !rt.Public {
		out["401"] = map[string]any{"description": "missing, invalid, expired or revoked credentials", "content": errRef["content"]}
		out["403"] = map[string]any{"description": "the credential lacks the permission", "content": errRef["content"]}
	}
	if rt.Limited {
		out["429"] = map[string]any{"description": "too many attempts: try again after Retry-After seconds",
			"headers": map[string]any{"Retry-After": map[string]any{"description": "seconds to wait",
				"schema": map[string]any{"type": "integer"}}}}
	}
	if rt.Missing != "" {
		out["404"] = map[string]any{"description": rt.Missing, "content": errRef["content"]}
	}
	return out
}

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1/"), "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// schemaGen turns Go types into JSON Schemas, named structs into
// components.
type schemaGen struct {
	defs  map[string]any
	names map[string]reflect.Type
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeFor[config.Duration]() // JSON "1m0s", as phoenix.yaml writes it
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == durationType:
		return map[string]any{"type": "string", "example": "1m"}
	case t.Kind() == reflect.Struct && t.Name() != "":
		return g.ref(t)
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.object(t)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // Page[pkg.T] -> PageT
		elem := name[i+1 : len(name)-1]
		name = name[:i] + elem[strings.LastIndexByte(elem, '.')+1:]
	}
	if prev, ok := g.names[name]; ok && prev != t {
		name = strings.ReplaceAll(t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:], "_", "") + name
	}
	if _, ok := g.names[name]; !ok {
		g.names[name] = t
		g.defs[name] = map[string]any{} // placeholder for recursion
		g.defs[name] = g.object(jsonForm(t))
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// jsonFormer is a type with a JSON of its own (MarshalJSON): JSONForm
// returns a value of the type that JSON has (spec.Step writes its
// durations as timeout_seconds and backoff_seconds).
type jsonFormer interface{ JSONForm() any }

// jsonForm is the type whose fields t's JSON has: t's own, unless t is a
// jsonFormer.
func jsonForm(t reflect.Type) reflect.Type {
	if f, ok := reflect.New(t).Interface().(jsonFormer); ok {
		return reflect.TypeOf(f.JSONForm())
	}
	return t
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}
