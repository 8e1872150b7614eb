package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
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
			buf := validate(t, sch, bom)
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

// validate writes bom and checks it against the CycloneDX 1.6 schema sch.
func validate(t *testing.T, sch *jsonschema.Schema, bom *cdx.BOM) *bytes.Buffer {
	t.Helper()
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
	return &buf
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

// TestWorkspacePackage: the SBOM of apps/web, a workspace package with no
// lockfile of its own, is the app's: its component is @acme/web, its
// components the 4 packages apps/web needs (none of apps/admin's), each
// one reachable from it (debug through the workspace package @acme/ui,
// part of the app), and a metadata property names the root's lockfile.
func TestWorkspacePackage(t *testing.T) {
	sch := schema(t)
	for _, dir := range []string{"ws-npm", "ws-pnpm9", "ws-yarn1", "ws-berry"} {
		t.Run(dir, func(t *testing.T) {
			bom, problems, err := Generate(context.Background(), filepath.Join("../lockfile/testdata", dir, "apps", "web"),
				Options{Version: "1.2.3", Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), GoModCache: t.TempDir()})
			if err != nil || len(problems) > 0 {
				t.Fatal(err, problems)
			}
			if c := bom.Metadata.Component; c.Name != "@acme/web" || c.Version != "1.2.3" {
				t.Errorf("component %s %s, want the app", c.Name, c.Version)
			}
			var comps []string
			for _, c := range *bom.Components {
				comps = append(comps, c.Name+"@"+c.Version)
			}
			slices.Sort(comps)
			if want := "debug@2.6.9 minimist@1.2.5 ms@2.0.0 ms@2.1.3"; strings.Join(comps, " ") != want {
				t.Errorf("components %v, want %s", comps, want)
			}
			var app []string
			for _, d := range *bom.Dependencies {
				if d.Ref == "app:@acme/web" {
					app = deref(d.Dependencies)
				}
			}
			if want := "pkg:npm/debug@2.6.9 pkg:npm/minimist@1.2.5 pkg:npm/ms@2.1.3"; strings.Join(app, " ") != want {
				t.Errorf("the app depends on %v, want %s", app, want)
			}
			if n := Notes(bom); len(n) != 1 || !strings.HasPrefix(n[0], "apps/web: read ../../") || !strings.HasSuffix(n[0], ", workspace package @acme/web") {
				t.Errorf("notes %q", n)
			}
			validate(t, sch, bom)
		})
	}
}

// A yarn, pnpm or npm workspace's packages from file:, link: and portal:
// references (a workspace package, vendor/minimist, a fork of minimist
// 1.2.5 kept in the repository) were components with the purl of the npm
// package of that name (pkg:npm/minimist@1.2.5; pnpm 9's
// pkg:npm/minimist@file:vendor%2Fminimist); they are the project's own,
// and what they depend on is listed.
func TestLocalPackagesAreNoComponents(t *testing.T) {
	for _, dir := range []string{"ws-yarn1local", "ws-berrylocal", "ws-yarn1local/apps/web", "ws-berrylocal/apps/web",
		"ws-pnpm8local", "ws-pnpm9local", "ws-pnpm8local/apps/web", "ws-pnpm9local/apps/web", "ws-npmlocal", "ws-npmlocal/apps/web"} {
		t.Run(dir, func(t *testing.T) {
			bom, problems, err := Generate(context.Background(), filepath.Join("../lockfile/testdata", filepath.FromSlash(dir)),
				Options{Version: "1.2.3", Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), GoModCache: t.TempDir()})
			if err != nil || len(problems) > 0 {
				t.Fatal(err, problems)
			}
			var purls []string
			for _, c := range *bom.Components {
				purls = append(purls, c.PackageURL)
			}
			slices.Sort(purls)
			if want := "pkg:npm/debug@2.6.9 pkg:npm/ms@2.0.0 pkg:npm/ms@2.1.3"; strings.Join(purls, " ") != want {
				t.Errorf("components %v, want %s", purls, want)
			}
		})
	}
}
