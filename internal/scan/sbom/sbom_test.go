package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schema compiles the official CycloneDX 1.6 JSON schema (from the npm
// package @cyclonedx/cyclonedx-library 10.3.0, res/schema/).
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for file, id := range map[string]string{
		"bom-1.6.SNAPSHOT.schema.json":  "http://cyclonedx.org/schema/bom-1.6.schema.json",
		"spdx.SNAPSHOT.schema.json":     "http://cyclonedx.org/schema/spdx.schema.json",
		"jsf-0.82.SNAPSHOT.schema.json": "http://cyclonedx.org/schema/jsf-0.82.schema.json",
	} {
		f, err := os.Open(filepath.Join("testdata/schema", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		// the bom schema refers to its siblings by file name
		if err := c.AddResource("http://cyclonedx.org/schema/"+file, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSBOMValidatesAgainstCycloneDX(t *testing.T) {
	sch := schema(t)
	for _, dir := range []string{"npm1", "npm3", "pnpm9", "yarn1", "berry", "gomod"} {
		t.Run(dir, func(t *testing.T) {
			bom, problems, err := Generate(context.Background(), filepath.Join("../lockfile/testdata", dir),
				Options{Version: "1.2.3", Serial: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), GoModCache: t.TempDir()})
			if err != nil || len(problems) > 0 {
				t.Fatal(err, problems)
			}
			var buf bytes.Buffer
			if err := Write(&buf, bom); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("not valid CycloneDX 1.6: %v", err)
			}
			var doc struct {
				SpecVersion  string
				Components   []map[string]any
				Dependencies []map[string]any
			}
			json.Unmarshal(buf.Bytes(), &doc)
			if doc.SpecVersion != "1.6" || len(doc.Components) < 3 || len(doc.Dependencies) != len(doc.Components)+1 {
				t.Errorf("spec %s, %d components, %d dependency entries", doc.SpecVersion, len(doc.Components), len(doc.Dependencies))
			}
			if dir == "npm3" {
				s := buf.String()
				for _, want := range []string{`"purl": "pkg:npm/chessground@9.2.1"`, `"id": "GPL-3.0-or-later"`, `"scope": "excluded"`, `"alg": "SHA-512"`} {
					if !strings.Contains(s, want) {
						t.Errorf("SBOM lacks %s", want)
					}
				}
			}
		})
	}
}

// TestSchemaRejects makes sure the validation can fail.
func TestSchemaRejects(t *testing.T) {
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"nonsense","name":"x"}]}`))
	if err := schema(t).Validate(inst); err == nil {
		t.Fatal("invalid BOM accepted")
	}
}

// TestSBOMHasEveryDependencyEdge: each component depended only on the one
// package of its shortest path, so depd, which body-parser, express,
// http-errors and send all need, was in express's dependsOn alone.
func TestSBOMHasEveryDependencyEdge(t *testing.T) {
	bom, _, err := Generate(context.Background(), "../lockfile/testdata/npm3", Options{Name: "site"})
	if err != nil {
		t.Fatal(err)
	}
	var needDepd []string
	for _, d := range *bom.Dependencies {
		for _, on := range deref(d.Dependencies) {
			if on == "pkg:npm/depd@2.0.0" {
				needDepd = append(needDepd, d.Ref)
			}
		}
	}
	want := []string{"pkg:npm/body-parser@1.20.2", "pkg:npm/express@4.19.2", "pkg:npm/http-errors@2.0.0", "pkg:npm/send@0.18.0"}
	if strings.Join(needDepd, " ") != strings.Join(want, " ") {
		t.Errorf("depd@2.0.0 is in the dependsOn of %v, want %v", needDepd, want)
	}
}
