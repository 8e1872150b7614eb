package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite docs/phoenix.schema.json")

const schemaFile = "../../docs/phoenix.schema.json"

func TestSchemaFileUpToDate(t *testing.T) {
	want := Schema()
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run go test ./internal/config -update", schemaFile)
	}
}

// compileSchema compiles the generated schema with a draft 2020-12 validator.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

// yamlInstance converts a YAML file to the JSON value editors validate:
// merge keys applied, timestamps kept as strings.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(nodeJSON(newDecoder("x"), doc.Content[0]))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func nodeJSON(d *decoder, n *yaml.Node) any {
	n = d.resolve(n, "")
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, "") {
			m[p.key.Value] = nodeJSON(d, p.value)
		}
		return m
	case yaml.SequenceNode:
		out := []any{}
		for _, item := range n.Content {
			out = append(out, nodeJSON(d, item))
		}
		return out
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, _ := parseBool(n)
		return b
	case "!!int", "!!float":
		if f, err := strconv.ParseFloat(cleanNum(n.Value), 64); err == nil {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

// expectation returns the "# expect: ..." text on a test file's first line.
func expectation(data []byte) string {
	line, _ := bufio.NewReader(bytes.NewReader(data)).ReadString('\n')
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "# expect:"))
}

// TestSchemaAgreesWithLoader runs the examples through both the schema and
// the Go loader: good/ passes both, bad/ fails both, semantic/ holds
// problems only the loader can see (cycles, references, cron, semver).
func TestSchemaAgreesWithLoader(t *testing.T) {
	schema := compileSchema(t)
	for _, dir := range []string{"good", "bad", "semantic"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		if len(files) == 0 {
			t.Fatalf("no examples in %s", dir)
		}
		for _, f := range files {
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				schemaErr := schema.Validate(yamlInstance(t, data))
				_, loadErr := Parse(data, filepath.Base(f))
				checkAgreement(t, dir, data, schemaErr, loadErr)
			})
		}
	}
}

func checkAgreement(t *testing.T, dir string, data []byte, schemaErr, loadErr error) {
	t.Helper()
	switch dir {
	case "good":
		if schemaErr != nil || loadErr != nil {
			t.Errorf("good example rejected:\nschema: %v\nloader: %v", schemaErr, loadErr)
		}
		return
	case "bad":
		if schemaErr == nil {
			t.Errorf("schema accepts a bad example (loader says: %v)", loadErr)
		}
	case "semantic":
		if schemaErr != nil {
			t.Errorf("schema rejects a semantic example; move it to bad/: %v", schemaErr)
		}
	}
	if loadErr == nil {
		t.Fatal("loader accepts a bad example")
	}
	if want := expectation(data); want == "" || !strings.Contains(loadErr.Error(), want) {
		t.Errorf("loader error lacks %q:\n%v", want, loadErr)
	}
}

func TestSchemaShape(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	defs := s["$defs"].(map[string]any)
	for _, name := range []string{"Environment", "Endpoint", "Alert", "Step", "Channel", "Trigger", "Stage"} {
		if _, ok := defs[name]; !ok {
			t.Errorf("$defs lacks %s", name)
		}
	}
	env := defs["Environment"].(map[string]any)["properties"].(map[string]any)
	appr := defs["Protection"].(map[string]any)["properties"].(map[string]any)["approvals"].(map[string]any)
	if appr["maximum"] != 10.0 || appr["description"] == nil {
		t.Errorf("approvals schema = %v", appr)
	}
	if _, ok := env["health_checks"]; !ok {
		t.Error("Environment lacks health_checks")
	}
}
