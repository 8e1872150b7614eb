package sbom

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// SPDXVersion is the SPDX version WriteSPDX writes.
const SPDXVersion = "SPDX-2.3"

type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
	Extracted         []spdxExtracted    `json:"hasExtractedLicensingInfos,omitempty"`
}

// spdxExtracted defines a LicenseRef- a package's licence names: SPDX
// requires each one used in a document to be defined in it (clause 10).
type spdxExtracted struct {
	LicenseID string `json:"licenseId"`
	Text      string `json:"extractedText"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
	// Comment holds the BOM's WarningProperty values, the project's files
	// not read for a licence: SPDX has no properties, and a package's
	// NOASSERTION does not say why
	Comment string `json:"comment,omitempty"`
}

type spdxPackage struct {
	SPDXID           string         `json:"SPDXID"`
	Name             string         `json:"name"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose"`
	ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// WriteSPDX encodes the BOM as an SPDX 2.3 JSON document: the application
// and every component as packages (purls as external references), the
// document DESCRIBES the application, and each dependency edge is a
// DEPENDS_ON relationship (DEV_DEPENDENCY_OF or OPTIONAL_DEPENDENCY_OF
// for development-only and optional packages); the project's files not
// read for a licence (WarningProperty) are its creation comment. The namespace is derived
// from the content, so the same BOM gives the same bytes.
func WriteSPDX(w io.Writer, bom *cdx.BOM) error {
	doc := toSPDX(bom)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	doc.DocumentNamespace = namespace(doc.Name, b)
	b, err = json.MarshalIndent(doc, "", "  ")
	if err == nil {
		_, err = w.Write(append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	return nil
}

// WriterFor is the writer of checks.sbom.format ("spdx": WriteSPDX, else
// CycloneDX's Write) and the file name the pipeline gives its output.
func WriterFor(format string) (file string, write func(io.Writer, *cdx.BOM) error) {
	if format == "spdx" {
		return "sbom.spdx.json", WriteSPDX
	}
	return "sbom.cdx.json", Write
}

func toSPDX(bom *cdx.BOM) *spdxDoc {
	app := bom.Metadata.Component
	doc := &spdxDoc{SPDXVersion: SPDXVersion, DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name: strings.TrimSpace(app.Name + " " + app.Version),
		CreationInfo: spdxCreation{Created: bom.Metadata.Timestamp, Creators: []string{"Tool: phoenix"},
			Comment: strings.Join(properties(bom, WarningProperty), "\n")}}
	ids := spdxIDs{byRef: map[string]string{}, used: map[string]bool{}}
	doc.Packages = append(doc.Packages, spdxPackage{SPDXID: ids.add(app.BOMRef, "Application-"+app.Name), Name: app.Name,
		VersionInfo: app.Version, DownloadLocation: noAssertion, LicenseConcluded: noAssertion,
		LicenseDeclared: noAssertion, CopyrightText: noAssertion, PrimaryPurpose: "APPLICATION"})
	scope := map[string]cdx.Scope{}
	if bom.Components != nil {
		for _, c := range *bom.Components {
			doc.Packages = append(doc.Packages, spdxPackageOf(c, ids.add(c.BOMRef, "Package-"+c.Name+"-"+c.Version)))
			scope[c.BOMRef] = c.Scope
		}
	}
	doc.Extracted = extractedLicences(doc.Packages)
	doc.Relationships = append(doc.Relationships, spdxRelationship{doc.SPDXID, "DESCRIBES", ids.byRef[app.BOMRef]})
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			for _, on := range deref(d.Dependencies) {
				doc.Relationships = append(doc.Relationships, edge(ids.byRef[d.Ref], ids.byRef[on], scope[on]))
			}
		}
	}
	return doc
}

func deref(s *[]string) []string {
	if s == nil {
		return nil
	}
	return *s
}

// edge is from's dependency on to, typed by to's scope.
func edge(from, to string, s cdx.Scope) spdxRelationship {
	switch s {
	case cdx.ScopeExcluded:
		return spdxRelationship{to, "DEV_DEPENDENCY_OF", from}
	case cdx.ScopeOptional:
		return spdxRelationship{to, "OPTIONAL_DEPENDENCY_OF", from}
	}
	return spdxRelationship{from, "DEPENDS_ON", to}
}

func spdxPackageOf(c cdx.Component, id string) spdxPackage {
	p := spdxPackage{SPDXID: id, Name: c.Name, VersionInfo: c.Version, DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion, PrimaryPurpose: "LIBRARY"}
	if c.PackageURL != "" {
		p.ExternalRefs = []spdxRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: c.PackageURL}}
	}
	if c.Hashes != nil {
		for _, h := range *c.Hashes {
			p.Checksums = append(p.Checksums, spdxChecksum{Algorithm: strings.ReplaceAll(string(h.Algorithm), "-", ""), Value: h.Value})
		}
	}
	if c.Licenses != nil && len(*c.Licenses) == 1 {
		p.LicenseDeclared = spdxLicense((*c.Licenses)[0])
	}
	return p
}

// spdxLicense is a licence choice as an SPDX expression, or NOASSERTION
// for free text (which SPDX would need as an extracted LicenseRef).
func spdxLicense(l cdx.LicenseChoice) string {
	switch {
	case l.Expression != "":
		return l.Expression
	case l.License != nil && l.License.ID != "":
		return l.License.ID
	}
	return noAssertion
}

var licenseRef = regexp.MustCompile(`(^|[\s(])(LicenseRef-[A-Za-z0-9.-]+)`)

// extractedLicences defines every LicenseRef- the packages' licences name,
// in order of first use. Its text is not known: only the package's
// metadata names it.
func extractedLicences(pkgs []spdxPackage) []spdxExtracted {
	var out []spdxExtracted
	seen := map[string]bool{}
	for _, p := range pkgs {
		for _, m := range licenseRef.FindAllStringSubmatch(p.LicenseDeclared, -1) {
			if id := m[2]; !seen[id] {
				seen[id] = true
				out = append(out, spdxExtracted{LicenseID: id,
					Text: "The text of this licence is not in this document: the package's metadata names it " + id + " only."})
			}
		}
	}
	return out
}

// spdxIDs gives each bom-ref a unique SPDX identifier.
type spdxIDs struct {
	byRef map[string]string
	used  map[string]bool
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func (s *spdxIDs) add(ref, label string) string {
	base := "SPDXRef-" + strings.Trim(notIDChar.ReplaceAllString(label, "-"), "-")
	id := base
	for n := 2; s.used[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	s.used[id], s.byRef[ref] = true, id
	return id
}

// namespace is a unique URI for the document: its name and a hash of its
// content, as the SPDX spec suggests (https://spdx.org/spdxdocs/...).
func namespace(name string, content []byte) string {
	sum := sha256.Sum256(content)
	return fmt.Sprintf("https://spdx.org/spdxdocs/%s-%x", url.PathEscape(notIDChar.ReplaceAllString(name, "-")), sum[:16])
}
