package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/package-url/packageurl-go"
)

// No SPDX 2.3 JSON schema is available offline, so spdxViolations checks
// what the SPDX 2.3 specification requires of a JSON document with
// packages and relationships (clauses 6, 7 and 11 and Annex B).
func spdxViolations(b []byte) []string {
	var doc spdxDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return []string{err.Error()}
	}
	var v []string
	bad := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name == "" {
		bad("document header: %q %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXID, doc.Name)
	}
	if u, err := url.Parse(doc.DocumentNamespace); err != nil || !u.IsAbs() || strings.Contains(doc.DocumentNamespace, "#") {
		bad("documentNamespace %q is not an absolute URI without #", doc.DocumentNamespace)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(doc.CreationInfo.Created) {
		bad("creationInfo.created %q", doc.CreationInfo.Created)
	}
	if len(doc.CreationInfo.Creators) == 0 || !regexp.MustCompile(`^(Tool|Organization|Person): \S`).MatchString(doc.CreationInfo.Creators[0]) {
		bad("creationInfo.creators %q", doc.CreationInfo.Creators)
	}
	ids := map[string]bool{doc.SPDXID: true}
	for _, p := range doc.Packages {
		v = append(v, packageViolations(p, ids)...)
	}
	v = append(v, relationshipViolations(doc.Relationships, ids)...)
	defined := map[string]bool{}
	for _, e := range doc.Extracted {
		if !regexp.MustCompile(`^LicenseRef-[A-Za-z0-9.-]+$`).MatchString(e.LicenseID) || e.Text == "" || defined[e.LicenseID] {
			bad("hasExtractedLicensingInfos %+v: an id LicenseRef-[idstring], defined once, with its text", e)
		}
		defined[e.LicenseID] = true
	}
	for _, p := range doc.Packages { // clause 10: a LicenseRef- used is defined in the document
		for _, id := range regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`).FindAllString(p.LicenseConcluded+" "+p.LicenseDeclared, -1) {
			if !defined[id] {
				bad("%s: %s is not defined in hasExtractedLicensingInfos", p.SPDXID, id)
			}
		}
	}
	return v
}

var spdxIDRx = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

func packageViolations(p spdxPackage, ids map[string]bool) []string {
	var v []string
	bad := func(format string, args ...any) { v = append(v, p.SPDXID+": "+fmt.Sprintf(format, args...)) }
	if !spdxIDRx.MatchString(p.SPDXID) || ids[p.SPDXID] {
		bad("SPDXID invalid or not unique")
	}
	ids[p.SPDXID] = true
	if p.Name == "" || p.DownloadLocation == "" || p.CopyrightText == "" {
		bad("name, downloadLocation and copyrightText are required")
	}
	for _, l := range []string{p.LicenseConcluded, p.LicenseDeclared} {
		if ok, _ := spdxexp.ValidateLicenses([]string{l}); !ok && l != "NOASSERTION" && l != "NONE" {
			bad("licence %q is no SPDX expression", l)
		}
	}
	if !slices.Contains([]string{"APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "DEVICE", "FIRMWARE", "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER"}, p.PrimaryPurpose) {
		bad("primaryPackagePurpose %q", p.PrimaryPurpose)
	}
	lengths := map[string]int{"SHA1": 40, "SHA256": 64, "SHA384": 96, "SHA512": 128}
	for _, c := range p.Checksums {
		if n, ok := lengths[c.Algorithm]; !ok || len(c.Value) != n || strings.Trim(c.Value, "0123456789abcdef") != "" {
			bad("checksum %s %q", c.Algorithm, c.Value)
		}
	}
	for _, r := range p.ExternalRefs {
		if _, err := packageurl.FromString(r.Locator); r.Category != "PACKAGE-MANAGER" || r.Type != "purl" || err != nil {
			bad("external ref %+v: %v", r, err)
		}
	}
	return v
}

func relationshipViolations(rs []spdxRelationship, ids map[string]bool) []string {
	var v []string
	described := false
	for _, r := range rs {
		if !ids[r.Element] || !ids[r.Related] {
			v = append(v, fmt.Sprintf("relationship %+v names an element not in the document", r))
		}
		if !slices.Contains([]string{"DESCRIBES", "DEPENDS_ON", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF"}, r.Type) {
			v = append(v, "relationship type "+r.Type)
		}
		described = described || r.Element == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBES"
	}
	if !described {
		v = append(v, "the document DESCRIBES nothing")
	}
	return v
}

func spdxOf(t *testing.T, dir string) []byte {
	t.Helper()
	bom, problems, err := Generate(context.Background(), filepath.Join("../lockfile/testdata", dir),
		Options{Version: "1.2.3", Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), GoModCache: t.TempDir()})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	var buf bytes.Buffer
	if err := WriteSPDX(&buf, bom); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSPDXFollowsTheSpec(t *testing.T) {
	for _, dir := range []string{"npm1", "npm3", "pnpm9", "yarn1", "berry", "gomod"} {
		t.Run(dir, func(t *testing.T) {
			b := spdxOf(t, dir)
			if v := spdxViolations(b); len(v) > 0 {
				t.Fatalf("not SPDX 2.3:\n%s", strings.Join(v, "\n"))
			}
			var doc spdxDoc
			json.Unmarshal(b, &doc)
			if len(doc.Packages) < 4 || len(doc.Relationships) < 3 {
				t.Errorf("%d packages, %d relationships", len(doc.Packages), len(doc.Relationships))
			}
			if !bytes.Equal(b, spdxOf(t, dir)) {
				t.Error("two SPDX documents of one project differ")
			}
		})
	}
	s := string(spdxOf(t, "npm3"))
	for _, want := range []string{`"referenceLocator": "pkg:npm/chessground@9.2.1"`, `"licenseDeclared": "GPL-3.0-or-later"`,
		`"relationshipType": "DEV_DEPENDENCY_OF"`, `"algorithm": "SHA512"`, `"spdxElementId": "SPDXRef-Package-express-4.19.2"`} {
		if !strings.Contains(s, want) {
			t.Errorf("SPDX lacks %s", want)
		}
	}
}

// TestSPDXDefinesItsLicenseRefs: a package licensed LicenseRef-Commercial
// was declared so with no definition of the LicenseRef, which SPDX
// requires of a document that uses one.
func TestSPDXDefinesItsLicenseRefs(t *testing.T) {
	dir := t.TempDir()
	lock := `{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1","b":"1","c":"1"}},
	"node_modules/a":{"version":"1.0.0","license":"(AGPL-3.0-only OR LicenseRef-Commercial)"},
	"node_modules/b":{"version":"1.0.0","license":"LicenseRef-Commercial"},"node_modules/c":{"version":"1.0.0","license":"MIT"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	bom, _, err := Generate(context.Background(), dir, Options{Name: "site", GoModCache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSPDX(&buf, bom); err != nil {
		t.Fatal(err)
	}
	if v := spdxViolations(buf.Bytes()); len(v) > 0 {
		t.Fatalf("not SPDX 2.3:\n%s", strings.Join(v, "\n"))
	}
	if n := strings.Count(buf.String(), `"licenseId": "LicenseRef-Commercial"`); n != 1 {
		t.Errorf("LicenseRef-Commercial defined %d times:\n%s", n, buf.String())
	}
}

// TestSPDXViolationsCanFail makes sure the checks above can fail.
func TestSPDXViolationsCanFail(t *testing.T) {
	b := spdxOf(t, "npm1")
	for _, breakIt := range []func(*spdxDoc){
		func(d *spdxDoc) { d.DocumentNamespace = "spdxdocs/x#1" },
		func(d *spdxDoc) { d.Packages[1].SPDXID = "SPDXRef-a@b" },
		func(d *spdxDoc) { d.Packages[1].ExternalRefs[0].Locator = "npm:x" },
		func(d *spdxDoc) { d.Relationships[0].Related = "SPDXRef-nowhere" },
		func(d *spdxDoc) { d.CreationInfo.Created = "2026-11-25" },
	} {
		var d spdxDoc
		json.Unmarshal(b, &d)
		breakIt(&d)
		broken, _ := json.Marshal(d)
		if len(spdxViolations(broken)) == 0 {
			t.Errorf("accepted a broken document: %.200s", broken)
		}
	}
}
